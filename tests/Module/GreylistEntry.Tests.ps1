#Requires -Version 7.0
# Get-SmtpdGreylistEntry and Remove-SmtpdGreylistEntry against real proxies (issue 17): python's
# smtplib is greylisted (450) by `grey:ALL:ALL:ALL`, and the triplet it leaves is seen, filtered and
# removed through the proxy object (its store, directly) and through -SpoolPath (the control channel),
# also from another process against a proxy that serves with -Wait in a child, as a service would.
# Every proxy listens on 127.0.0.1 port 0 and asks only the NXDOMAIN knotd on the loopback.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $started = [System.Collections.Generic.List[object]]::new()
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $rules = New-RulesFile -Name rules -Line 'grey:ALL:ALL:ALL', 'allow:ALL:ALL:ALL'
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: grey`r`n`r`nhello`r`n"))

    function Start-GreyProxy {
        param([string] $Name)
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive $Name) `
            -NoReverseLookup -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -DenyDelaySeconds 0
        $started.Add($p)
        $p
    }

    # One transaction with smtplib; its RCPT reply code.
    function Send-Mail {
        param([int] $Port, [string] $From = '<a@example.org>', [string] $To = '<b@example.test>')
        $out = & $python $sendScript --port $Port --from $From --to $To --body-file $body | ConvertFrom-Json
        $out.rcpt[0][0]
    }

    # The proxy writes a try to its store before it answers 450, so the entries are there once
    # smtplib has its reply.
    function Wait-Entries {
        param($Proxy, [int] $Count)
        @(Get-SmtpdGreylistEntry -InputObject $Proxy) | Should -HaveCount $Count
    }

    function Get-Output($Child) { Get-Content -LiteralPath $Child.Out -Raw -ErrorAction SilentlyContinue }
}

AfterAll {
    foreach ($p in $started) {
        if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false }
    }
    foreach ($process in $processes) {
        try { if (-not $process.HasExited) { $process.Kill($true); [void]$process.WaitForExit(5000) } }
        catch [System.InvalidOperationException] { }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'Get-SmtpdGreylistEntry' {
    BeforeAll {
        $proxy = Start-GreyProxy -Name spool-get
        $spool = $proxy.Options.SpoolPath
        Send-Mail -Port $proxy.LocalEndPoints[0].Port | Should -Be 450
        Send-Mail -Port $proxy.LocalEndPoints[0].Port -From '<c@Example.NET>' -To '<d@example.test>' | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 2
    }

    It 'shows the triplet a deferred first try left, the same by the proxy object and by -SpoolPath' {
        $direct = @(Get-SmtpdGreylistEntry -InputObject $proxy -From 'a@example.org')
        $direct | Should -HaveCount 1
        $e = $direct[0]
        $e | Should -BeOfType ([SmtpdModule.Engine.Greylist.GreylistEntry])
        $e.Kind | Should -Be 'Triplet'
        $e.State | Should -Be 'Waiting'
        $e.Client | Should -Be '127.0.0.1'
        $e.Identity | Should -Be 'n:127.0.0.0/24'
        $e.From | Should -Be 'a@example.org'
        $e.To | Should -Be 'b@example.test'
        $e.Passed | Should -BeNullOrEmpty
        $e.Expires | Should -BeGreaterThan $e.FirstSeen

        $viaChannel = @(Get-SmtpdGreylistEntry -SpoolPath $spool -From 'a@example.org')
        $viaChannel | Should -HaveCount 1
        $viaChannel[0] | Should -BeOfType ([SmtpdModule.Engine.Greylist.GreylistEntry])
        foreach ($name in 'Key', 'Kind', 'State', 'Client', 'Identity', 'From', 'To', 'FirstSeen') {
            $viaChannel[0].$name | Should -Be $e.$name -Because $name
        }
        # Each reader adds the key's time to live to its own clock.
        [Math]::Abs(($viaChannel[0].Expires - $e.Expires).TotalSeconds) | Should -BeLessThan 5
        $viaChannel[0].SpoolPath | Should -Be $spool
        $direct[0].Proxy.Id | Should -Be $proxy.Id
    }

    It 'takes the proxy from the pipeline, and a spool by property name from Get-SmtpdProxy' {
        @($proxy | Get-SmtpdGreylistEntry) | Should -HaveCount 2
        @(Get-SmtpdProxy -SpoolPath $spool | Get-SmtpdGreylistEntry) | Should -HaveCount 2
    }

    It 'filters by <Name>' -ForEach @(
        @{ Name = 'sender wildcard, case-insensitive'; Filter = @{ From = '*@EXAMPLE.net' }; Expected = 'd@example.test' }
        @{ Name = 'recipient wildcard with ?'; Filter = @{ To = '<?@example.test>' }; Expected = 'b@example.test', 'd@example.test' }
        @{ Name = 'client network'; Filter = @{ Client = '127.0.0.0/8' }; Expected = 'b@example.test', 'd@example.test' }
        @{ Name = 'another client'; Filter = @{ Client = '192.0.2.1' }; Expected = @() }
        @{ Name = 'kind'; Filter = @{ Kind = 'Trap', 'AutoAllow' }; Expected = @() }
        @{ Name = 'all of them at once'; Filter = @{ Client = '127.0.0.1'; From = 'a@*'; To = '*.test'; Kind = 'Triplet' }; Expected = 'b@example.test' }
    ) {
        "$(@(Get-SmtpdGreylistEntry -SpoolPath $spool @Filter).To | Sort-Object)" | Should -Be "$($Expected | Sort-Object)"
        "$(@(Get-SmtpdGreylistEntry -InputObject $proxy @Filter).To | Sort-Object)" | Should -Be "$($Expected | Sort-Object)"
    }

    It 'shows at most -MaxCount entries and warns that more match' {
        foreach ($how in @{ SpoolPath = $spool }, @{ InputObject = $proxy }) {
            $got = @(Get-SmtpdGreylistEntry @how -MaxCount 1 -WarningVariable warned -WarningAction SilentlyContinue)
            $got | Should -HaveCount 1
            "$warned" | Should -Match 'More greylist entries match'
            Get-SmtpdGreylistEntry @how -MaxCount 2 -WarningVariable warned -WarningAction SilentlyContinue | Out-Null
            $warned | Should -BeNullOrEmpty
        }
    }

    It 'shows an entry as a table of kind, state, client, sender, recipient and expiry' {
        $text = Get-SmtpdGreylistEntry -InputObject $proxy -From 'a@*' | Out-String -Width 120
        $text | Should -Match 'Kind\s+State\s+Client\s+From\s+To\s+Expires'
        $text | Should -Match 'Triplet\s+Waiting\s+127\.0\.0\.1\s+a@example\.org\s+b@example\.test\s+\d{4}-\d\d-\d\d \d\d:\d\d'
    }

    It 'stops with InvalidGreylistClient for a -Client that is neither an address nor a network' {
        { Get-SmtpdGreylistEntry -InputObject $proxy -Client 'mail.example.org' } |
            Should -Throw -ErrorId 'InvalidGreylistClient,SmtpdModule.Commands.GetSmtpdGreylistEntryCommand'
    }

    It 'reports SmtpdProxyNotFound for a spool no proxy serves, and PathNotInFileSystem for a path elsewhere' {
        $empty = Join-Path $TestDrive 'no-proxy'
        Get-SmtpdGreylistEntry -SpoolPath $empty, 'Env:/PATH' -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err | Should -HaveCount 2
        $err[0].FullyQualifiedErrorId | Should -Be 'SmtpdProxyNotFound,SmtpdModule.Commands.GetSmtpdGreylistEntryCommand'
        $err[0].TargetObject | Should -Be $empty
        $err[1].FullyQualifiedErrorId | Should -Be 'PathNotInFileSystem,SmtpdModule.Commands.GetSmtpdGreylistEntryCommand'
    }
}

Describe 'Remove-SmtpdGreylistEntry' {
    It 'removes nothing with -WhatIf, then the piped entry, after which the sender is greylisted from the start' {
        $proxy = Start-GreyProxy -Name spool-remove
        $spool = $proxy.Options.SpoolPath
        $port = $proxy.LocalEndPoints[0].Port
        Send-Mail -Port $port | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 1

        Get-SmtpdGreylistEntry -SpoolPath $spool | Remove-SmtpdGreylistEntry -WhatIf
        @(Get-SmtpdGreylistEntry -SpoolPath $spool) | Should -HaveCount 1

        $key = (Get-SmtpdGreylistEntry -SpoolPath $spool).Key
        $removed = @(Get-SmtpdGreylistEntry -SpoolPath $spool | Remove-SmtpdGreylistEntry -Confirm:$false -PassThru)
        $removed | Should -HaveCount 1
        $removed[0].Key | Should -Be $key
        Get-SmtpdGreylistEntry -SpoolPath $spool | Should -BeNullOrEmpty

        # A new first try: recorded again, not a retry of the removed one.
        Send-Mail -Port $port | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 1
        (Get-SmtpdGreylistEntry -InputObject $proxy).FirstSeen | Should -BeGreaterOrEqual $removed[0].FirstSeen
    }

    It 'removes what the filters select from the proxy object, and only that' {
        $proxy = Start-GreyProxy -Name spool-filter
        $port = $proxy.LocalEndPoints[0].Port
        Send-Mail -Port $port -From '<a@example.org>' | Should -Be 450
        Send-Mail -Port $port -From '<c@example.net>' | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 2

        Remove-SmtpdGreylistEntry -Proxy $proxy -From '*@example.net' -WhatIf
        @(Get-SmtpdGreylistEntry -InputObject $proxy) | Should -HaveCount 2
        $gone = @(Remove-SmtpdGreylistEntry -Proxy $proxy -From '*@example.net' -Confirm:$false -PassThru)
        $gone.From | Should -Be 'c@example.net'
        (Get-SmtpdGreylistEntry -InputObject $proxy).From | Should -Be 'a@example.org'
        # Entries read from the proxy object go back to it by their Proxy property.
        Get-SmtpdGreylistEntry -InputObject $proxy | Remove-SmtpdGreylistEntry -Confirm:$false
        Get-SmtpdGreylistEntry -InputObject $proxy | Should -BeNullOrEmpty
    }

    It 'removes by filter through -SpoolPath' {
        $proxy = Start-GreyProxy -Name spool-filter-channel
        $spool = $proxy.Options.SpoolPath
        $port = $proxy.LocalEndPoints[0].Port
        Send-Mail -Port $port -To '<b@example.test>' | Should -Be 450
        Send-Mail -Port $port -To '<x@example.test>' | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 2

        Remove-SmtpdGreylistEntry -SpoolPath $spool -To 'x@*' -Client 127.0.0.1 -Kind Triplet -Confirm:$false
        (Get-SmtpdGreylistEntry -SpoolPath $spool).To | Should -Be 'b@example.test'
    }

    It 'reports an entry that is already gone with GreylistEntryNotFound, targeting its key, and goes on' {
        $proxy = Start-GreyProxy -Name spool-gone
        $spool = $proxy.Options.SpoolPath
        $port = $proxy.LocalEndPoints[0].Port
        Send-Mail -Port $port -To '<b@example.test>' | Should -Be 450
        Send-Mail -Port $port -To '<x@example.test>' | Should -Be 450
        Wait-Entries -Proxy $proxy -Count 2
        $entries = @(Get-SmtpdGreylistEntry -SpoolPath $spool)
        $entries[0] | Remove-SmtpdGreylistEntry -Confirm:$false

        $entries | Remove-SmtpdGreylistEntry -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -Be 'GreylistEntryNotFound,SmtpdModule.Commands.RemoveSmtpdGreylistEntryCommand'
        $err[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err[0].TargetObject | Should -Be $entries[0].Key
        Get-SmtpdGreylistEntry -SpoolPath $spool | Should -BeNullOrEmpty
    }

    It 'stops with InvalidGreylistClient for a bad -Client, and reports a spool no proxy serves' {
        $proxy = Start-GreyProxy -Name spool-bad
        { Remove-SmtpdGreylistEntry -Proxy $proxy -Client '192.0.2.0/40' -Confirm:$false } |
            Should -Throw -ErrorId 'InvalidGreylistClient,SmtpdModule.Commands.RemoveSmtpdGreylistEntryCommand'
        $empty = Join-Path $TestDrive 'no-proxy-remove'
        Remove-SmtpdGreylistEntry -SpoolPath $empty -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'SmtpdProxyNotFound,SmtpdModule.Commands.RemoveSmtpdGreylistEntryCommand'
    }
}

Describe 'The greylist of a proxy that runs as a service' {
    It 'is seen and cleared with -SpoolPath from another process' {
        $spool = Join-Path $TestDrive 'spool-service'
        $service = Start-ChildPwsh -Name service -Command ("Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) " +
            "-RulesPath $(Quote $rules) -SpoolPath $(Quote $spool) -NoReverseLookup -IdentTimeoutSeconds 0 -Wait | Out-Null")
        Wait-Until { $service.Process.HasExited -or ((Get-Output $service) -match 'start: listening on 127\.0\.0\.1:\d+') } `
            -Seconds 60 -Because 'the service listens' -Context $service.Log
        $service.Process.HasExited | Should -BeFalse -Because ((& $service.Log) -join "`n")
        $port = [int]([regex]::Match((Get-Output $service), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)
        Send-Mail -Port $port -From '<a@example.org>' -To '<b@example.test>' | Should -Be 450

        $admin = Start-ChildPwsh -Name admin -Command (
            "`$seen = @(Get-SmtpdGreylistEntry -SpoolPath $(Quote $spool) -From 'a@example.org')`n" +
            "`$gone = @(`$seen | Remove-SmtpdGreylistEntry -Confirm:`$false -PassThru)`n" +
            "`$left = @(Get-SmtpdGreylistEntry -SpoolPath $(Quote $spool))`n" +
            "[pscustomobject]@{ Seen = @(`$seen | Select-Object @{ n = 'Kind'; e = { `"`$(`$_.Kind)`" } }, @{ n = 'State'; e = { `"`$(`$_.State)`" } }, Client, From, To); Gone = `$gone.Count; Left = `$left.Count } | ConvertTo-Json -Compress -Depth 3")
        $admin.Process.WaitForExit(60000) | Should -BeTrue
        $admin.Process.ExitCode | Should -Be 0 -Because ((& $admin.Log) -join "`n")
        $result = Get-Output $admin | ConvertFrom-Json
        $result.Seen | Should -HaveCount 1
        $result.Seen[0].Kind | Should -Be 'Triplet'
        $result.Seen[0].State | Should -Be 'Waiting'
        $result.Seen[0].Client | Should -Be '127.0.0.1'
        $result.Seen[0].From | Should -Be 'a@example.org'
        $result.Seen[0].To | Should -Be 'b@example.test'
        $result.Gone | Should -Be 1
        $result.Left | Should -Be 0

        Stop-SmtpdProxy -SpoolPath $spool -Confirm:$false
        $service.Process.WaitForExit(30000) | Should -BeTrue
        $service.Process.ExitCode | Should -Be 0
    }
}
