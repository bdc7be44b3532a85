#Requires -Version 7.0
# SmtpdModule.Format.ps1xml and the -Id completers: every type a cmdlet writes (and the ones nested in
# them) shows as a table of the columns an administrator scans, and Format-List shows what matters;
# [OutputType] names those types; -Id of Get-/Stop-SmtpdProxy and Get-/Stop-SmtpFwd completes with
# what runs. The objects are real: a proxy on 127.0.0.1 port 0 that asks only the NXDOMAIN knotd on
# the loopback, mail sent to it with python3's smtplib, a forwarder into a pickup directory, and
# Test-SmtpdRule / Get-SmtpdRule on a rules file in TestDrive.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython

    # Rendered text is compared as text: no colour escapes in table headers.
    $rendering = $PSStyle.OutputRendering
    $PSStyle.OutputRendering = 'PlainText'
    $utf8 = [System.Text.UTF8Encoding]::new($false)

    # The header labels of a table as Out-String renders it (the first line that is not blank).
    function Get-TableHeader {
        param([string] $Text)
        $header = @($Text -split '\r?\n' | Where-Object { $_.Trim() })[0]
        @($header.Trim() -split '\s+')
    }

    # The labels of a Format-List rendering, in order, without repeats.
    function Get-ListLabel {
        param([string] $Text)
        $labels = [System.Collections.Generic.List[string]]::new()
        foreach ($line in $Text -split '\r?\n') {
            if ($line -match '^(\w+)\s*: ' -or $line -match '^(\w+)\s*:$') {
                if (-not $labels.Contains($Matches[1])) { $labels.Add($Matches[1]) }
            }
        }
        $labels
    }

    # The rendered line that contains $Text, from a table.
    function Get-Row {
        param([string] $Rendered, [string] $Text)
        @($Rendered -split '\r?\n' | Where-Object { $_.Contains($Text) })
    }

    # One SMTP transaction with smtplib that must be accepted.
    function Send-TestMail {
        param([int] $Port, [string] $From, [string[]] $To, [string] $Subject)
        $body = Join-Path $TestDrive "$Subject.eml"
        [System.IO.File]::WriteAllBytes($body, $utf8.GetBytes("From: $From`r`nSubject: $Subject`r`n`r`nhello`r`n"))
        $arguments = @($sendScript, '--port', $Port, '--from', $From, '--body-file', $body)
        foreach ($t in $To) { $arguments += '--to', $t }
        $out = & $python @arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $r = $out | ConvertFrom-Json
        if ($r.data[0] -ne 250) { throw "The proxy did not accept the message: $out" }
    }

    $rules = New-RulesFile 'smtpd_check_rules' @(
        'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        'allow:ALL:ALL:*@example.test'
        'allow:192.168.1:ALL:ALL'
    )
    $spool = Join-Path $TestDrive 'spool'
    $drop = Join-Path $TestDrive 'drop'
    $null = New-Item -ItemType Directory -Path $drop

    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -NoReverseLookup -RulesPath $rules -SpoolPath $spool
    $port = $proxy.LocalEndPoints[0].Port
    $stoppedProxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -NoReverseLookup -RulesPath $rules `
        -SpoolPath (Join-Path $TestDrive 'spool-stopped')
    $stoppedProxy = $stoppedProxy | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false -PassThru

    Send-TestMail -Port $port -From '<a@example.org>' -To '<b@example.test>', '<c@example.test>' -Subject 'ready'
    Send-TestMail -Port $port -From '<>' -To '<carol@example.test>', '<dave@example.test>' -Subject 'bounce'

    # A copy of the spool where the null-sender message is deferred with a delivery record, as a
    # forwarder would have left it (layout: about_SmtpdSpool); the forwarder below empties the original.
    $viewSpool = Join-Path $TestDrive 'spool-view'
    # Not control/: the running proxy's socket is no file to copy.
    $null = New-Item -ItemType Directory -Path $viewSpool
    Get-ChildItem -LiteralPath $spool -Exclude 'control' |
        Copy-Item -Destination $viewSpool -Recurse -ErrorAction Stop
    $bounce = Get-SmtpdSpool $viewSpool | Where-Object Sender -EQ ''
    $null = New-Item -ItemType Directory -Path (Join-Path $viewSpool 'deferred') -Force
    Move-Item -LiteralPath (Join-Path $viewSpool "ready/$($bounce.Id).msg") -Destination (Join-Path $viewSpool "deferred/$($bounce.Id).msg")
    $null = New-Item -ItemType Directory -Path (Join-Path $viewSpool 'status') -Force
    [System.IO.File]::WriteAllText((Join-Path $viewSpool "status/$($bounce.Id).status"), ((@(
                'smtpd-status 1'
                'attempts: 2'
                'last-attempt: 2025-01-02T03:09:05.0000000Z'
                'next-attempt: 2099-01-02T03:04:05.0000000Z'
                'last-error: 452 4.2.2 Mailbox full'
                'rcpt: 0 delivered 2025-01-02T03:04:06.0000000Z 2.0.0 250 2.0.0 Ok'
                'rcpt: 1 pending 2025-01-02T03:09:05.0000000Z 4.2.2 452 4.2.2 Mailbox full'
            ) -join "`n") + "`n"), $utf8)
    $items = @(Get-SmtpdSpool $viewSpool)
    $readyItem = $items | Where-Object State -EQ 'Ready'
    $deferredItem = $items | Where-Object State -EQ 'Deferred'

    $summary = Start-SmtpFwd -SpoolPath $spool -PickupDirectory $drop -Once
    $forwarder = Start-SmtpFwd -SpoolPath $spool -PickupDirectory $drop

    $decisions = @(Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>', '<b@example.test>', '<z@elsewhere.test>' -DnsServer $dns.EndPoint -Explain -WarningAction SilentlyContinue)
    $stageVerdicts = @(Test-SmtpdRule $rules -ClientAddress 192.0.2.10 -ClientName mail.example.org -From '<a@example.org>' `
            -To '<x@spam.test>', '<b@example.test>' -DnsServer $dns.EndPoint -EachStage -WarningAction SilentlyContinue)
    $ruleList = @(Get-SmtpdRule $rules -WarningAction SilentlyContinue)
}

AfterAll {
    if ($forwarder -and $forwarder.IsRunning) { Stop-SmtpFwd -InputObject $forwarder -TimeoutSeconds 1 -Confirm:$false }
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
    if ($rendering) { $PSStyle.OutputRendering = $rendering }
}

Describe 'SmtpdModule.Format.ps1xml' {
    It 'is the format file of the manifest and loads without errors' {
        $module = Get-Module SmtpdModule
        $file = @($module.ExportedFormatFiles | Where-Object { (Split-Path -Leaf $_) -eq 'SmtpdModule.Format.ps1xml' })
        $file | Should -HaveCount 1
        { [xml](Get-Content -LiteralPath $file[0] -Raw) } | Should -Not -Throw
        { Update-FormatData -PrependPath $file[0] -ErrorAction Stop } | Should -Not -Throw
    }

    It 'declares the output type of every cmdlet, all of them SmtpdModule types but the exported file' {
        $expected = @{
            'Start-SmtpdProxy'       = @('SmtpdModule.Engine.Smtp.SmtpProxy')
            'Get-SmtpdProxy'         = @('SmtpdModule.Engine.Smtp.SmtpProxy', 'SmtpdModule.Engine.Smtp.ProxyStatus')
            'Stop-SmtpdProxy'        = @('SmtpdModule.Engine.Smtp.SmtpProxy', 'SmtpdModule.Engine.Smtp.ProxyStatus')
            'Test-SmtpdRule'         = @('SmtpdModule.Engine.Rules.RuleDecision', 'SmtpdModule.Engine.Policy.StageVerdict')
            'Test-SmtpdDnsbl'        = @('SmtpdModule.Engine.Lookup.DnsblProbeResult', 'System.Boolean')
            'Test-SmtpdSpf'          = @('SmtpdModule.Engine.Spf.SpfCheckResult')
            'Compare-SmtpdRule'      = @('SmtpdModule.Engine.Evidence.RuleChange', 'SmtpdModule.Engine.Evidence.RuleComparisonSummary')
            'Get-SmtpdRule'          = @('SmtpdModule.Engine.Rules.Rule')
            'Get-SmtpdSpool'         = @('SmtpdModule.Engine.Spool.SpoolItem')
            'Suspend-SmtpdSpoolItem' = @('SmtpdModule.Engine.Spool.SpoolItem')
            'Resume-SmtpdSpoolItem'  = @('SmtpdModule.Engine.Spool.SpoolItem')
            'Remove-SmtpdSpoolItem'  = @()
            'Export-SmtpdSpoolItem'  = @('System.IO.FileInfo')
            'Start-SmtpFwd'          = @('SmtpdModule.Engine.Forwarding.Forwarder', 'SmtpdModule.Engine.Forwarding.ForwardSummary')
            'Get-SmtpFwd'            = @('SmtpdModule.Engine.Forwarding.Forwarder', 'SmtpdModule.Engine.Forwarding.ForwarderStatus')
            'Stop-SmtpFwd'           = @('SmtpdModule.Engine.Forwarding.Forwarder', 'SmtpdModule.Engine.Forwarding.ForwarderStatus')
            'Get-SmtpdGreylistEntry'    = @('SmtpdModule.Engine.Greylist.GreylistEntry')
            'Remove-SmtpdGreylistEntry' = @('SmtpdModule.Engine.Greylist.GreylistEntry')
            'Export-SmtpdReport'        = @('SmtpdModule.Engine.Evidence.Report.TrafficReport')
            'Get-SmtpdLog'              = @('SmtpdModule.Engine.Evidence.LogEvent', 'SmtpdModule.Engine.Evidence.LogDecision')
            'Get-SmtpdRuleHit'          = @('SmtpdModule.Engine.Policy.RuleHit')
        }
        $commands = @(Get-Command -Module SmtpdModule -CommandType Cmdlet)
        @($commands.Name | Sort-Object) | Should -Be @($expected.Keys | Sort-Object)
        foreach ($c in $commands) {
            $declared = @($c.OutputType | ForEach-Object Name | Sort-Object)
            $because = "$($c.Name) declares [OutputType($($declared -join ', '))]"
            $declared | Should -Be @($expected[$c.Name] | Sort-Object) -Because $because
        }
    }

    It 'gives every SmtpdModule output type, and the types nested in them, a table first and a list' {
        $outputTypes = @(Get-Command -Module SmtpdModule -CommandType Cmdlet | ForEach-Object { $_.OutputType.Name } |
                Where-Object { $_ -like 'SmtpdModule.*' })
        $nested = 'SmtpdModule.Engine.Spool.SpoolRecipient', 'SmtpdModule.Engine.Rules.RuleTrace', 'SmtpdModule.Engine.Rules.RuleDiagnostic'
        foreach ($name in @($outputTypes + $nested | Sort-Object -Unique)) {
            $views = @((Get-FormatData -TypeName $name).FormatViewDefinition)
            $views.Count | Should -BeGreaterThan 1 -Because "$name needs a table and a list view"
            $views[0].Control | Should -BeOfType ([System.Management.Automation.TableControl]) -Because "the default view of $name is a table"
            @($views | Where-Object { $_.Control -is [System.Management.Automation.ListControl] }) |
                Should -HaveCount 1 -Because "$name has one list view"
        }
    }
}

Describe 'Default views' {
    It 'shows <Type> as a table of <Headers>' -ForEach @(
        @{ Type = 'SmtpProxy'; Variable = 'proxy'; Property = $null; Headers = 'Id', 'Sessions', 'Accepted', 'Refused', 'Denied', 'LocalEndPoints' }
        @{ Type = 'Forwarder'; Variable = 'forwarder'; Property = $null; Headers = 'Id', 'Active', 'Forwarded', 'Deferred', 'Failed', 'Target' }
        @{ Type = 'ForwardSummary'; Variable = 'summary'; Property = $null; Headers = 'Forwarded', 'Deferred', 'Failed', 'Bounced', 'Errors', 'Elapsed', 'Waiting', 'NextDue' }
        @{ Type = 'SpoolItem'; Variable = 'items'; Property = $null; Headers = 'Id', 'State', 'Received', 'Size', 'Sender', 'Recipients' }
        @{ Type = 'SpoolRecipient'; Variable = 'deferredItem'; Property = 'Recipients'; Headers = 'Index', 'Address', 'Status', 'Time', 'Diagnostic' }
        @{ Type = 'RuleDecision'; Variable = 'decisions'; Property = $null; Headers = 'Action', 'Line', 'To', 'Reply' }
        @{ Type = 'StageVerdict'; Variable = 'stageVerdicts'; Property = $null; Headers = 'Stage', 'Kind', 'Line', 'Command', 'Reply' }
        @{ Type = 'RuleTrace'; Variable = 'decisions'; Property = 'Explanation'; Headers = 'Line', 'Result', 'FailedList', 'MatchedToken', 'Note' }
        @{ Type = 'Rule'; Variable = 'ruleList'; Property = $null; Headers = 'Line', 'Verb', 'Source', 'From', 'To', 'Message' }
        @{ Type = 'RuleDiagnostic'; Variable = 'ruleList'; Property = 'Diagnostics'; Headers = 'Severity', 'Line', 'Column', 'Code', 'Message' }
    ) {
        $objects = @((Get-Variable -Name $Variable).Value)
        if ($Property) { $objects = @($objects | ForEach-Object { $_.$Property }) }
        $objects.Count | Should -BeGreaterThan 0
        $objects[0].GetType().Name | Should -Be $Type
        # Out-String alone takes the default view: it must be the table.
        Get-TableHeader ($objects | Out-String -Width 250) | Should -Be $Headers
        Get-TableHeader ($objects | Format-Table | Out-String -Width 250) | Should -Be $Headers
    }

    It 'shows a proxy''s end point, its counters, and (stopped) once it has stopped' {
        $row = @(Get-Row ($proxy | Out-String -Width 250) "127.0.0.1:$port")
        $row | Should -HaveCount 1
        $row[0].Trim() -split '\s+' | Select-Object -First 5 | Should -Be @("$($proxy.Id)", "$($proxy.Sessions)", "$($proxy.Accepted)", '0', '0')
        $row[0] | Should -Not -Match 'stopped'
        $stopped = $stoppedProxy | Out-String -Width 250
        Get-Row $stopped "127.0.0.1:$($stoppedProxy.LocalEndPoints[0].Port) (stopped)" | Should -HaveCount 1
    }

    It 'shows a forwarder''s transport and what it did' {
        $row = @(Get-Row ($forwarder | Out-String -Width 250) $forwarder.Target)
        $row | Should -HaveCount 1
        $row[0].Trim() -split '\s+' | Select-Object -First 1 | Should -Be "$($forwarder.Id)"
    }

    It 'shows a -Once summary''s counts and its elapsed time as h:mm:ss.f' {
        $row = @(($summary | Out-String -Width 250) -split '\r?\n' | Where-Object { $_.Trim() })[2]
        $cells = $row.Trim() -split '\s+'
        $cells[0] | Should -Be '2'
        $cells[5] | Should -Match '^\d+:\d\d:\d\d\.\d$'
    }

    It 'shows spooled mail by the short id that finds it, its arrival in local time, its size, the null sender as <> and the recipients counted on one line' {
        $text = $items | Out-String -Width 250
        $ready = @(Get-Row $text ('*' + $readyItem.Id.Substring(32)))
        $ready | Should -HaveCount 1
        $ready[0] | Should -Match ([regex]::Escape($readyItem.Received.LocalDateTime.ToString('MM-dd HH:mm')))
        $ready[0] | Should -Match '\d+ B\s'
        $ready[0] | Should -Match 'a@example\.org\s+\(2\) b@example\.test, c@example\.test'
        $deferred = @(Get-Row $text ('*' + $deferredItem.Id.Substring(32)))
        $deferred[0] | Should -Match 'Deferred\s'
        $deferred[0] | Should -Match '<>\s+\(2\) carol@example\.test, dave@example\.test'
        @(Get-SmtpdSpool $viewSpool -Id ('*' + $readyItem.Id.Substring(32))).Id | Should -Be $readyItem.Id -Because 'the short id is the wildcard that finds the message'
    }

    It 'has a Delivery table of attempts, next attempt in local time and the last error' {
        $text = $items | Format-Table -View Delivery | Out-String -Width 250
        Get-TableHeader $text | Should -Be 'Id', 'State', 'Attempts', 'NextAttempt', 'LastError'
        $row = @(Get-Row $text ('*' + $deferredItem.Id.Substring(32)))
        $row[0] | Should -Match ([regex]::Escape($deferredItem.NextAttempt.LocalDateTime.ToString('yyyy-MM-dd HH:mm')))
        $row[0] | Should -Match '\s2\s.*452 4\.2\.2 Mailbox full'
    }

    It 'shows a decision''s action, its deciding line or default, and the reply' {
        $text = $decisions | Out-String -Width 250
        @(Get-Row $text '<x@spam.test>')[0].Trim() | Should -Match '^Noto\s+1\s+<x@spam\.test>\s+550 no mail for <x@spam\.test>$'
        @(Get-Row $text '<b@example.test>')[0].Trim() | Should -Match '^Allow\s+2\s+<b@example\.test>$'
        @(Get-Row $text '<z@elsewhere.test>')[0].Trim() | Should -Match '^Allow\s+default\s+<z@elsewhere\.test>$'
    }
}

Describe 'Views at 80 and 120 columns' {
    BeforeAll {
        # A long recipient and a long reply, as a new user's first rules file has them (issue 12).
        $longTo = '<someone.with.a.long.name@far-away.example.test>'
        $wideRules = New-RulesFile 'wide_rules' @(
            'allow:127.0.0.1 [::1]:ALL:ALL'
            'noto:ALL:ALL:*@far-away.example.test *@*.far-away.example.test:550 5.7.1 %T%C relaying denied for %I, ask the postmaster'
        )
        $wideDecisions = @(Test-SmtpdRule $wideRules -ClientAddress 203.0.113.9 -ClientName '' -From '<a@elsewhere.test>' `
                -To '<b@example.test>', $longTo -DnsServer $dns.EndPoint -WarningAction SilentlyContinue)
        $longReply = $wideDecisions[1].Reply
        $wideRuleList = @(Get-SmtpdRule $wideRules -WarningAction SilentlyContinue)
        $exportDir = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'export-view')).FullName
        $exported = @(Export-SmtpdSpoolItem -Id $readyItem.Id -SpoolPath $viewSpool -Destination $exportDir)

        # The text of one column of the row that contains $Key, read down its wrapped lines and
        # joined without white space (a table wraps a long cell where the column ends).
        function Get-Cell {
            param([string] $Rendered, [string] $Key, [string] $Column)
            $lines = @($Rendered -split '\r?\n')
            $h = 0
            while (-not $lines[$h].Trim()) { $h++ }
            $header = $lines[$h]
            $labels = [regex]::Matches($header, '\S+')
            $i = 0
            while ($labels[$i].Value -ne $Column) { $i++ }
            $start = $labels[$i].Index
            $end = if ($i + 1 -lt $labels.Count) { $labels[$i + 1].Index } else { [int]::MaxValue }
            $firstEnd = $labels[1].Index
            $row = 0
            while (-not $lines[$row].Contains($Key) -or $row -le $h + 1) { $row++ }
            $cell = ''
            do {
                $line = $lines[$row]
                if ($line.Length -gt $start) { $cell += $line.Substring($start, [Math]::Min($end, $line.Length) - $start) }
                $row++
            } while ($row -lt $lines.Count -and $lines[$row].Trim() -and -not $lines[$row].Substring(0, [Math]::Min($firstEnd, $lines[$row].Length)).Trim())
            $cell -replace '\s', ''
        }
    }

    It 'fits <Name> in <Width> columns with every line within the width' -ForEach @(
        foreach ($w in 80, 120) {
            @{ Name = 'Get-SmtpdProxy'; Variable = 'proxy'; Width = $w }
            @{ Name = 'Get-SmtpdSpool'; Variable = 'items'; Width = $w }
            @{ Name = 'Test-SmtpdRule'; Variable = 'wideDecisions'; Width = $w }
            @{ Name = 'Get-SmtpdRule'; Variable = 'wideRuleList'; Width = $w }
            @{ Name = 'Export-SmtpdSpoolItem'; Variable = 'exported'; Width = $w }
            @{ Name = 'Start-SmtpFwd -Once'; Variable = 'summary'; Width = $w }
        }
    ) {
        $text = (Get-Variable -Name $Variable).Value | Out-String -Width $Width
        foreach ($line in $text -split '\r?\n') { $line.TrimEnd().Length | Should -BeLessOrEqual $Width -Because "'$line'" }
        # Every header is whole: no 'Sen' over 'der'.
        $header = @($text -split '\r?\n' | Where-Object { $_.Trim() })[1]
        $header.Trim() | Should -Match '^-+( +-+)*$'
    }

    It 'shows Test-SmtpdRule''s To and reply whole at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = $wideDecisions | Out-String -Width $Width
        Get-TableHeader $text | Should -Be 'Action', 'Line', 'To', 'Reply'
        $key = $longTo.Substring(0, 12)
        Get-Cell $text $key 'To' | Should -BeExactly ($longTo -replace '\s', '')
        Get-Cell $text $key 'Reply' | Should -BeExactly ($longReply -replace '\s', '')
        $longReply | Should -BeLike '550 5.7.1 <someone.with.a.long.name@far-away.example.test>: relaying denied for 203.0.113.9*'
        @(Get-Row $text $key)[0] | Should -Match '550 5\.7\.1' -Because 'the reply code is on the row''s first line'
    }

    It 'shows Get-SmtpdRule''s source, To and message whole at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = $wideRuleList | Out-String -Width $Width
        Get-TableHeader $text | Should -Be 'Line', 'Verb', 'Source', 'From', 'To', 'Message'
        Get-Cell $text 'Allow' 'Source' | Should -BeExactly '127.0.0.1[::1]'
        Get-Cell $text 'Noto' 'To' | Should -BeExactly '*@far-away.example.test*@*.far-away.example.test'
        Get-Cell $text 'Noto' 'Message' | Should -BeExactly ($wideRuleList[1].Message.Text -replace '\s', '')
    }

    It 'shows Get-SmtpdSpool''s sender and every recipient at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = $items | Out-String -Width $Width
        Get-TableHeader $text | Should -Be 'Id', 'State', 'Received', 'Size', 'Sender', 'Recipients'
        $key = '*' + $readyItem.Id.Substring(32)
        Get-Cell $text $key 'Sender' | Should -BeExactly 'a@example.org'
        Get-Cell $text $key 'Recipients' | Should -BeExactly '(2)b@example.test,c@example.test'
    }

    It 'shows an exported message''s id, size and whole path at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $exported[0] | Should -BeOfType ([System.IO.FileInfo])
        $exported[0].Id | Should -Be $readyItem.Id
        $text = $exported | Out-String -Width $Width
        Get-TableHeader $text | Should -Be 'Id', 'Size', 'FullName'
        Get-Cell $text ('*' + $readyItem.Id.Substring(32)) 'FullName' | Should -BeExactly ($exported[0].FullName -replace '\s', '')
        Get-ListLabel ($exported | Format-List | Out-String -Width $Width) | Should -Be 'Id', 'FullName', 'Length', 'LastWriteTime'
    }

    It 'shows the proxy''s LocalEndPoints, a property, under that name' {
        $proxy.PSObject.Properties.Name | Should -Contain 'LocalEndPoints'
        Get-Cell ($proxy | Out-String -Width 80) "127.0.0.1:$port" 'LocalEndPoints' | Should -BeExactly "127.0.0.1:$port"
    }
}

Describe 'List views' {
    It 'shows <Type> with <Labels>' -ForEach @(
        @{ Type = 'SmtpProxy'; Variable = 'proxy'; Property = $null
            Labels = 'Id', 'State', 'LocalEndPoints', 'HostName', 'StartTime', 'Sessions', 'Active', 'Accepted', 'Refused', 'Denied', 'Bytes', 'RulesPath', 'DefaultAction', 'SpoolPath', 'LogPath', 'Tls' }
        @{ Type = 'Forwarder'; Variable = 'forwarder'; Property = $null
            Labels = 'Id', 'State', 'Target', 'SpoolPath', 'Owner', 'StartTime', 'Active', 'Attempts', 'Forwarded', 'Deferred', 'Failed', 'Bounced', 'RecipientsDelivered', 'Errors' }
        @{ Type = 'ForwardSummary'; Variable = 'summary'; Property = $null
            Labels = 'SpoolPath', 'Target', 'Forwarded', 'Deferred', 'Failed', 'Bounced', 'Errors', 'Elapsed', 'Waiting', 'NextDue' }
        @{ Type = 'SpoolItem'; Variable = 'deferredItem'; Property = $null
            Labels = 'Id', 'State', 'Received', 'Sender', 'Recipients', 'Size', 'ClientAddress', 'ClientName', 'Helo', 'Attempts', 'LastAttempt', 'NextAttempt', 'LastError', 'SpoolPath' }
        @{ Type = 'SpoolRecipient'; Variable = 'deferredItem'; Property = 'Recipients'
            Labels = 'Index', 'Address', 'Status', 'StatusCode', 'Diagnostic', 'Time', 'RulesSha256', 'Line', 'Rule', 'Basis', 'Checks' }
        @{ Type = 'RuleDecision'; Variable = 'decisions'; Property = $null
            Labels = 'Action', 'Basis', 'LineNumber', 'Rule', 'Reply', 'ClientAddress', 'ClientName', 'Ident', 'From', 'To', 'DebugLines', 'Explanation', 'Stages', 'RulesPath' }
        @{ Type = 'StageVerdict'; Variable = 'stageVerdicts'; Property = $null
            Labels = 'Stage', 'Command', 'Kind', 'Replies', 'Reason', 'LineNumber', 'Rule' }
        @{ Type = 'RuleTrace'; Variable = 'decisions'; Property = 'Explanation'
            Labels = 'LineNumber', 'Rule', 'Result', 'FailedList', 'MatchedToken', 'Note' }
        @{ Type = 'Rule'; Variable = 'ruleList'; Property = $null
            Labels = 'LineNumber', 'Text', 'Verb', 'Action', 'Source', 'From', 'To', 'Message', 'Diagnostics' }
        @{ Type = 'RuleDiagnostic'; Variable = 'ruleList'; Property = 'Diagnostics'
            Labels = 'Severity', 'Code', 'Path', 'Line', 'Column', 'Message' }
    ) {
        $objects = @((Get-Variable -Name $Variable).Value)
        if ($Property) { $objects = @($objects | ForEach-Object { $_.$Property }) }
        $objects[0].GetType().Name | Should -Be $Type
        Get-ListLabel ($objects | Format-List | Out-String -Width 250) | Should -Be $Labels
    }

    It 'lists a proxy''s default action, which lives in its rule evaluation options' {
        $text = $proxy | Format-List | Out-String -Width 250
        $text | Should -Match ('(?m)^DefaultAction\s+: ' + $proxy.Options.RuleEvaluation.DefaultAction + '\r?$')
        "$($proxy.Options.RuleEvaluation.DefaultAction)" | Should -Not -BeNullOrEmpty
    }

    It 'lists a spooled message''s recipients one a line with their status, and its times in local time' {
        $text = $deferredItem | Format-List | Out-String -Width 250
        $text | Should -Match '(?m)^Recipients\s+: carol@example\.test Delivered: 250 2\.0\.0 Ok\r?$'
        $text | Should -Match '(?m)^\s+dave@example\.test Pending: 452 4\.2\.2 Mailbox full\r?$'
        $text | Should -Match ('(?m)^NextAttempt\s+: ' + [regex]::Escape($deferredItem.NextAttempt.LocalDateTime.ToString('yyyy-MM-dd HH:mm:ss')) + '\r?$')
        $text | Should -Match ('(?m)^Received\s+: ' + [regex]::Escape($deferredItem.Received.LocalDateTime.ToString('yyyy-MM-dd HH:mm:ss')) + '\r?$')
        $text | Should -Match '(?m)^Sender\s+: <>\r?$'
    }

    It 'lists a decision''s DNSBL score and the lists that made it after FailureReason, only when a SCORE. token ran' {
        $scoreRules = New-RulesFile 'score_rules' 'score:spam:bl.test*3', 'deny:SCORE.spam>=3:ALL:ALL', 'allow:ALL:ALL:ALL'
        $d = Test-SmtpdRule $scoreRules -ClientAddress 192.0.2.10 -ClientName '' -From '<a@example.org>' -To '<b@example.test>' `
            -DnsServer $dns.EndPoint -WarningAction SilentlyContinue
        $d.Score | Should -Not -BeNullOrEmpty
        $labels = Get-ListLabel ($d | Format-List | Out-String -Width 250)
        $labels[($labels.IndexOf('Reply') + 1)..($labels.IndexOf('Reply') + 2)] | Should -Be 'Score', 'ScoreDetail'
        ($d | Format-List | Out-String -Width 250) | Should -Match '(?m)^ScoreDetail\s+: spam: .* = \d+\r?$'
    }

    It 'lists a decision''s explanation one line a row' {
        $text = $decisions[1] | Format-List | Out-String -Width 250
        $text | Should -Match '(?m)^Explanation\s+: 1 NoMatch \(To\)'
        $text | Should -Match '(?m)^\s+2 Decided\r?$'
        $text | Should -Match '(?m)^\s+3 NotReached\r?$'
    }

    It 'lists, under -Explain, the stages a recipient''s transaction passed, one a row' {
        $text = $decisions[1] | Format-List | Out-String -Width 250
        $text | Should -Match '(?m)^Stages\s+: Connect: 220 '
        $text | Should -Match "(?m)^\s+Helo 'EHLO \[192\.0\.2\.10\]': 250"
        $text | Should -Match "(?m)^\s+Mail 'MAIL FROM:<a@example\.org>': 250"
    }

    It 'lists a rule''s warnings with line, column and code' {
        $text = $ruleList[2] | Format-List | Out-String -Width 250
        $text | Should -Match '(?m)^Diagnostics\s+: 3:\d+: warning: .* \[NeverMatches\]\r?$'
        $ruleList[0] | Format-List | Out-String -Width 250 | Should -Not -Match 'Diagnostics'
    }
}

Describe '-Id completion' {
    It 'completes -Id of <Command> with the running <Kind> and says what it is' -ForEach @(
        @{ Command = 'Get-SmtpdProxy'; Kind = 'proxy' }
        @{ Command = 'Stop-SmtpdProxy'; Kind = 'proxy' }
        @{ Command = 'Get-SmtpFwd'; Kind = 'forwarder' }
        @{ Command = 'Stop-SmtpFwd'; Kind = 'forwarder' }
    ) {
        $running = if ($Kind -eq 'proxy') { $proxy } else { $forwarder }
        $tip = if ($Kind -eq 'proxy') { "proxy $($proxy.Id) on 127.0.0.1:$port" }
        else { "forwarder $($forwarder.Id) from $($forwarder.SpoolPath) to $($forwarder.Target)" }
        $line = "$Command -Id "
        $completions = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $mine = @($completions | Where-Object CompletionText -EQ "$($running.Id)")
        $mine | Should -HaveCount 1
        $mine[0].ResultType | Should -Be 'ParameterValue'
        $mine[0].ToolTip | Should -BeExactly $tip
        foreach ($m in $completions) { $m.ToolTip | Should -BeLike "$Kind *" }
    }

    It 'offers only ids that start with what is typed, and no stopped proxy' {
        $line = "Get-SmtpdProxy -Id $($proxy.Id)"
        $completions = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $completions.CompletionText | Should -Contain "$($proxy.Id)"
        foreach ($m in $completions) { $m.CompletionText | Should -BeLike "$($proxy.Id)*" }

        $line = 'Stop-SmtpdProxy -Id '
        $all = @((TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches)
        $all.CompletionText | Should -Not -Contain "$($stoppedProxy.Id)"
    }
}
