#Requires -Version 7.0
# Get-SmtpdRuleHit: a proxy serving with -Wait in a child pwsh, as a service would, takes mail from
# python's smtplib; this console reads its hits per rule line through -SpoolPath. Then the rules file
# is edited (a comment on top moves every line, one line changes), the proxy's reload is awaited in
# its log, and more mail shows that the unchanged lines kept their counts and the changed one started
# again. Every proxy listens on 127.0.0.1 port 0 and asks only the NXDOMAIN knotd on the loopback.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $started = [System.Collections.Generic.List[object]]::new()
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: hits`r`n`r`nhello`r`n"))

    # One transaction with smtplib; the RCPT reply codes.
    function Send-Mail([int] $Port, [string[]] $To) { @((Send-SmtplibMail -Port $Port -To $To -BodyFile $body).rcpt | ForEach-Object { $_[0] }) }

    function Get-Output($Child) { Get-Content -LiteralPath $Child.Out -Raw -ErrorAction SilentlyContinue }
    function Get-Row($Rows, [int] $Line) { @($Rows | Where-Object Line -eq $Line)[0] }
}

AfterAll {
    foreach ($p in $started) { if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false } }
    foreach ($process in $processes) {
        try { if (-not $process.HasExited) { $process.Kill($true); [void]$process.WaitForExit(5000) } }
        catch [System.InvalidOperationException] { }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'Get-SmtpdRuleHit of a proxy that runs as a service' {
    It 'counts per line and verdict, and keeps the counts of unchanged lines across a reload' {
        $rules = New-RulesFile -Name service-rules -Line 'allow:ALL:ALL:a@example.test', 'noto:ALL:ALL:n@example.test', 'allow:ALL:ALL:b@example.test'
        $spool = Join-Path $TestDrive 'spool-service'
        $log = Join-Path $TestDrive 'service.jsonl'
        $service = Start-ChildPwsh -Name service -Command ("Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) " +
            "-RulesPath $(Quote $rules) -SpoolPath $(Quote $spool) -LogPath $(Quote $log) -NoReverseLookup -IdentTimeoutSeconds 0 " +
            "-NotoDelaySeconds 0 -Wait | Out-Null")
        Wait-Until { $service.Process.HasExited -or ((Get-Output $service) -match 'start: listening on 127\.0\.0\.1:\d+') } `
            -Seconds 60 -Because 'the service listens' -Context $service.Log
        $service.Process.HasExited | Should -BeFalse -Because ((& $service.Log) -join "`n")
        $port = [int]([regex]::Match((Get-Output $service), 'listening on 127\.0\.0\.1:(\d+)').Groups[1].Value)

        "$(Send-Mail -Port $port -To '<a@example.test>', '<n@example.test>', '<b@example.test>', '<c@example.test>')" | Should -Be '250 550 250 250'
        "$(Send-Mail -Port $port -To '<a@example.test>', '<bad@@example.test>')" | Should -Be '250 553'

        $rows = @(Get-SmtpdRuleHit -SpoolPath $spool)
        $rows[0] | Should -BeOfType ([SmtpdModule.Engine.Policy.RuleHit])
        @($rows | Where-Object { $null -ne $_.Line }).Line | Should -Be 1, 2, 3
        @($rows | Where-Object { $null -eq $_.Line }).Basis | Should -Be 'DefaultNoMatch', 'LookupFailure', 'AddressCheck', 'RecipientVerification', 'ProtocolTest', 'Limit', 'Fault'
        (Get-Row $rows 1).Accepted | Should -Be 2
        (Get-Row $rows 1).Rule | Should -Be 'allow:ALL:ALL:a@example.test'
        "$((Get-Row $rows 1).Action)" | Should -Be 'Allow'
        (Get-Row $rows 2).Refused | Should -Be 1
        "$((Get-Row $rows 2).Action)" | Should -Be 'Noto'
        (Get-Row $rows 3).Accepted | Should -Be 1
        $default = @($rows | Where-Object { "$($_.Basis)" -eq 'DefaultNoMatch' })
        $default.Accepted | Should -Be 1
        $default.Line | Should -BeNullOrEmpty
        @($rows | Where-Object { "$($_.Basis)" -eq 'AddressCheck' }).Refused | Should -Be 1
        ($rows | Measure-Object -Property Total -Sum).Sum | Should -Be 6
        $rows.ProcessId | Select-Object -Unique | Should -Be $service.Process.Id
        $before = $rows

        # A comment on top moves every line; the noto line changes, the allow lines only move.
        $null = New-RulesFile -Name service-rules -Line '# edited', 'allow:ALL:ALL:a@example.test',
            'noto:ALL:ALL:n@example.test:550 5.7.1 not here', 'allow:ALL:ALL:b@example.test'
        # The proxy looks at the file at most once a second, when asked (a session, or this request).
        Wait-Until {
            $null = Get-SmtpdRuleHit -SpoolPath $spool
            @(Get-Content -LiteralPath $log | ConvertFrom-Json | Where-Object { $_.event -eq 'rules' -and $_.message -like 'reloaded*' }).Count -gt 0
        } -Seconds 30 -Because 'the proxy reloads its edited rules' -Context { Get-Content -LiteralPath $log }

        "$(Send-Mail -Port $port -To '<a@example.test>', '<n@example.test>')" | Should -Be '250 550'

        $after = @(Get-SmtpdRuleHit -SpoolPath $spool)
        @($after | Where-Object { $null -ne $_.Line }).Line | Should -Be 2, 3, 4
        (Get-Row $after 2).Accepted | Should -Be 3 -Because 'the allow line did not change, it only moved'
        (Get-Row $after 2).Since | Should -Be (Get-Row $before 1).Since
        (Get-Row $after 3).Refused | Should -Be 1 -Because 'the changed noto line counts from the reload'
        (Get-Row $after 3).Since | Should -BeGreaterThan (Get-Row $before 2).Since
        (Get-Row $after 3).Rule | Should -Be 'noto:ALL:ALL:n@example.test:550 5.7.1 not here'
        (Get-Row $after 4).Accepted | Should -Be 1
        @($after | Where-Object { "$($_.Basis)" -eq 'DefaultNoMatch' }).Accepted | Should -Be 1

        $text = Get-SmtpdRuleHit -SpoolPath $spool | Out-String -Width 120
        $text | Should -Match 'Line\s+Accepted\s+Refused\s+Deferred\s+Closed\s+Rule'
        $text | Should -Match '\s2\s+3\s+0\s+0\s+0\s+allow:ALL:ALL:a@example\.test'
        $text | Should -Match 'default\s+1\s+0\s+0\s+0'

        Stop-SmtpdProxy -SpoolPath $spool -Confirm:$false
        $service.Process.WaitForExit(30000) | Should -BeTrue
    }
}

Describe 'Get-SmtpdRuleHit of a proxy of this process' {
    It 'reads it by -Id and from the pipeline, and reports an id or a spool without a proxy' {
        $rules = New-RulesFile -Name local-rules -Line 'deny:ALL:ALL:d@example.test', 'allow:ALL:ALL:ALL'
        $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive spool-local) `
            -NoReverseLookup -IdentTimeoutSeconds 0 -DenyDelaySeconds 0
        $started.Add($proxy)
        "$(Send-Mail -Port $proxy.LocalEndPoints[0].Port -To '<ok@example.test>', '<d@example.test>')" | Should -Be '250 550'

        $byId = @(Get-SmtpdRuleHit -Id $proxy.Id)
        (Get-Row $byId 1).Closed | Should -Be 1
        (Get-Row $byId 2).Accepted | Should -Be 1
        $byId[0].ProxyId | Should -Be $proxy.Id
        @($proxy | Get-SmtpdRuleHit).Count | Should -Be $byId.Count

        Get-SmtpdRuleHit -Id 987654 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'SmtpdProxyNotFound,SmtpdModule.Commands.GetSmtpdRuleHitCommand'
        $err[0].TargetObject | Should -Be 987654
        $empty = Join-Path $TestDrive 'no-proxy'
        Get-SmtpdRuleHit -SpoolPath $empty -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'SmtpdProxyNotFound,SmtpdModule.Commands.GetSmtpdRuleHitCommand'
        $err[0].TargetObject | Should -Be $empty
    }
}
