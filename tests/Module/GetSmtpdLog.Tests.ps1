#Requires -Version 7.0
# Get-SmtpdLog against the log of a real proxy on 127.0.0.1 port 0 (the NXDOMAIN knotd on the
# loopback, mail from python3's smtplib bound to two loopback clients) that rotates its log every
# few events, and the log of a forwarder into a pickup directory: each filter returns exactly the
# events it names, rotated files are read oldest first, and bad lines and paths are reported by id.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $utf8 = [System.Text.UTF8Encoding]::new($false)
    $body = Join-Path $TestDrive 'body.eml'
    [System.IO.File]::WriteAllBytes($body, $utf8.GetBytes("Subject: hi`r`n`r`nhello`r`n"))

    function Send-TestMail {
        param([int] $Port, [string] $Source, [string] $From, [string[]] $To)
        $arguments = @($sendScript, '--port', $Port, '--source', $Source, '--from', $From, '--body-file', $body)
        foreach ($t in $To) { $arguments += '--to', $t }
        $out = & $python @arguments 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }

    $rules = New-RulesFile 'smtpd_check_rules' @(
        'noto:ALL:ALL:*@spam.test:550 no mail for %T'
        'allow:ALL:ALL:ALL'
    )
    $logDir = Join-Path $TestDrive 'log'
    $log = Join-Path $logDir 'smtpd.log'
    $fwdLog = Join-Path $logDir 'smtpfwd.jsonl'
    $spool = Join-Path $TestDrive 'spool'
    # A small -LogMaxSize: the proxy's own rotation makes the rotated files read below.
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -NoReverseLookup -RulesPath $rules -SpoolPath $spool `
        -LogPath $log -LogMaxSize 2000 -NotoDelaySeconds 0
    $port = $proxy.LocalEndPoints[0].Port
    $null = Send-TestMail -Port $port -Source 127.0.0.2 -From '<a@example.org>' -To '<b@example.test>'
    $null = Send-TestMail -Port $port -Source 127.0.1.3 -From '<spam@bad.test>' -To '<x@spam.test>', '<c@example.test>'
    # The disconnect events follow the client's QUIT: wait for both.
    $deadline = [DateTime]::UtcNow.AddSeconds(30)
    while (@(Get-SmtpdLog $log -Event disconnect).Count -lt 2) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "The proxy did not log both sessions' ends:`n$((Get-ChildItem $logDir | Get-Content) -join "`n")" }
        Start-Sleep -Milliseconds 50
    }
    $proxy | Stop-SmtpdProxy -TimeoutSeconds 5 -Confirm:$false
    $summary = Start-SmtpFwd -SpoolPath $spool -PickupDirectory (Join-Path $TestDrive 'drop') -Once -LogPath $fwdLog
    $all = @(Get-SmtpdLog $log)
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'Get-SmtpdLog on a real proxy''s rotated log' {
    It 'reads the rotated files, oldest first, then the current one, and loses no event' {
        @(Get-ChildItem $logDir -Filter 'smtpd.*.log').Count | Should -BeGreaterThan 1
        @($all | Where-Object Kind -EQ 'connect').Count | Should -Be 2
        @($all | Where-Object Kind -EQ 'disconnect').Count | Should -Be 2
        $times = @($all.Time)
        for ($i = 1; $i -lt $times.Count; $i++) { $times[$i] | Should -BeGreaterOrEqual $times[$i - 1].AddSeconds(-1) }
        $all[-1].Path | Should -Be $log
        $all[0].Path | Should -Not -Be $log
    }

    It 'writes decisions as LogDecision with the record''s fields and other events as LogEvent' {
        $decisions = @($all | Where-Object { $_ -is [SmtpdModule.Engine.Evidence.LogDecision] })
        @($decisions.To) | Should -Be '<b@example.test>', '<x@spam.test>', '<c@example.test>'
        $refused = $decisions[1]
        $refused.Kind | Should -Be 'decision'
        $refused.Client | Should -Be '127.0.1.3'
        $refused.From | Should -Be '<spam@bad.test>'
        "$($refused.Verdict)" | Should -Be 'Reject'
        "$($refused.Outcome)" | Should -Be 'Refused'
        $refused.Line | Should -Be 1
        $refused.Reply | Should -BeLike '550*no mail for <x@spam.test>*'
        $refused.RulesSha256 | Should -Match '^[0-9a-f]{64}$'
        $refused.Record | Should -BeOfType ([SmtpdModule.Engine.Policy.DecisionRecord])
        ($all | Where-Object Kind -EQ 'connect')[0] | Should -BeOfType ([SmtpdModule.Engine.Evidence.LogEvent])
    }

    It 'keeps exactly the events of a client network' {
        $found = @(Get-SmtpdLog $log -Client 127.0.1.0/24)
        $found.Count | Should -Be @($all | Where-Object Client -EQ '127.0.1.3').Count
        @($found.Client | Sort-Object -Unique) | Should -Be '127.0.1.3'
        @(Get-SmtpdLog $log -Client 127.0.0.2 -Event decision).To | Should -Be '<b@example.test>'
    }

    It 'filters decisions by outcome, pipeline verdict, sender, recipient and rule line' {
        @(Get-SmtpdLog $log -Verdict Refused).To | Should -Be '<x@spam.test>'
        @(Get-SmtpdLog $log -Verdict Reject).To | Should -Be '<x@spam.test>'
        @(Get-SmtpdLog $log -Verdict Accepted).To | Should -Be '<b@example.test>', '<c@example.test>'
        @(Get-SmtpdLog $log -From '*@bad.test' -Verdict Accepted).To | Should -Be '<c@example.test>'
        @(Get-SmtpdLog $log -To '*@EXAMPLE.test').To | Should -Be '<b@example.test>', '<c@example.test>'
        @(Get-SmtpdLog $log -Line 2).To | Should -Be '<b@example.test>', '<c@example.test>'
        Get-SmtpdLog $log -Verdict Deferred | Should -BeNullOrEmpty
    }

    It 'filters by time, at and after -After and before -Before' {
        $refused = Get-SmtpdLog $log -Verdict Refused
        @(Get-SmtpdLog $log -After $refused.Time.LocalDateTime -Event decision).To | Should -Be '<x@spam.test>', '<c@example.test>'
        @(Get-SmtpdLog $log -Before $refused.Time.UtcDateTime -Event decision).To | Should -Be '<b@example.test>'
        Get-SmtpdLog $log -After (Get-Date).AddDays(1) | Should -BeNullOrEmpty
    }

    It 'reads the forwarder''s log: one forwarded event per message, by spool id' {
        $summary.Forwarded | Should -Be 2
        $forwarded = @(Get-SmtpdLog $fwdLog -Event forwarded)
        $forwarded.Count | Should -Be 2
        $forwarded[0] | Should -Not -BeOfType ([SmtpdModule.Engine.Evidence.LogDecision])
        $forwarded | ForEach-Object { $_.Session | Should -Match '^\d{8}T\d{6}-' ; $_.Data['delivered'] | Should -BeGreaterThan 0 }
        Get-SmtpdLog $fwdLog -Verdict Refused | Should -BeNullOrEmpty
    }

    It 'takes wildcards and files from the pipeline, reading each file once' {
        @(Get-SmtpdLog (Join-Path $logDir 'smtpd*.log')).Count | Should -Be $all.Count
        @(Get-ChildItem $logDir -Filter 'smtpd*.log' | Get-SmtpdLog).Count | Should -Be $all.Count
        @(Get-SmtpdLog (Join-Path $logDir 'none*.log')).Count | Should -Be 0
    }

    It 'takes a proxy from the pipeline by its LogPath' {
        @($proxy | Get-SmtpdLog -Event connect).Count | Should -Be 2
    }

    It 'reads a rotated file named on its own alone' {
        $first = (Get-ChildItem $logDir -Filter 'smtpd.*.log' | Sort-Object Name)[0]
        @(Get-SmtpdLog -LiteralPath $first.FullName).Path | Sort-Object -Unique | Should -Be $first.FullName
    }

    It 'fits its tables in 80 columns' {
        foreach ($text in ($all | Where-Object Kind -EQ 'decision' | Out-String -Width 80), ($all | Where-Object Kind -NE 'decision' | Out-String -Width 80)) {
            foreach ($line in $text -split '\r?\n') { $line.TrimEnd().Length | Should -BeLessOrEqual 80 -Because "'$line'" }
        }
    }
}

Describe 'Get-SmtpdLog errors' {
    It 'reports an unreadable line as LogLineUnreadable at file:line and goes on' {
        $bad = Join-Path $TestDrive 'bad.log'
        $lines = @(Get-Content -LiteralPath $log)
        Set-Content -LiteralPath $bad -Value (@($lines[0], '{"time":"2026-12-07T01:02:03.0000000Z","event":', $lines[1..($lines.Count - 1)]) | ForEach-Object { $_ })
        $found = @(Get-SmtpdLog $bad -ErrorVariable err -ErrorAction SilentlyContinue)
        $found.Count | Should -Be $lines.Count
        $err.Count | Should -Be 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LogLineUnreadable,*'
        "$($err[0].CategoryInfo.Category)" | Should -Be 'InvalidData'
        $err[0].TargetObject | Should -Be "${bad}:2"
    }

    It 'reports a missing file as LogFileNotFound' {
        $missing = Join-Path $TestDrive 'missing.log'
        Get-SmtpdLog $missing -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LogFileNotFound,*'
        $err[0].TargetObject | Should -Be $missing
    }

    It 'stops with InvalidLogFilter on a client that is not an address or network' {
        { Get-SmtpdLog $log -Client 'mail.example.org' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidLogFilter,*'
    }
}
