#Requires -Version 7.0
# -MetricsListen on Start-SmtpdProxy and Start-SmtpFwd: a proxy with a two-line rules file takes mail
# from python's smtplib, its /metrics endpoint is scraped over HTTP, the text passes
# `promtool check metrics` (Prometheus's own linter) and its counters equal the traffic sent. Then a
# forwarder delivers the spooled mail to aiosmtpd and its endpoint shows the deliveries and their
# histograms. Everything listens on 127.0.0.1 port 0; the proxy asks only the NXDOMAIN knotd on the
# loopback.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $python = Get-AiosmtpdPython
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $promtool = Get-Command -Name promtool -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1 -ExpandProperty Source
    if (-not $promtool) { throw 'promtool is needed (Debian package prometheus): run tests/tools/install-test-deps.sh.' }

    # The third line names a DNSBL zone that no test mail reaches: its guard probes the zone (knotd
    # says NXDOMAIN for everything, so it does not list its test point) and the gauge shows it.
    $rules = New-RulesFile -Name metrics-rules -Line 'allow:ALL:ALL:*@example.test', 'noto:ALL:ALL:*@spam.test',
        'deny:RBL.bl.example.test:ALL:ALL'
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: metrics`r`n`r`nhello`r`n"))

    # One transaction with smtplib; the RCPT reply codes.
    function Send-Mail([int] $Port, [string[]] $To) { @((Send-SmtplibMail -Port $Port -To $To -BodyFile $body).rcpt | ForEach-Object { $_[0] }) }

    # GET /metrics: the response, for its headers and body.
    function Get-Scrape([System.Net.IPEndPoint] $EndPoint) {
        Invoke-WebRequest -Uri "http://127.0.0.1:$($EndPoint.Port)/metrics" -UseBasicParsing -TimeoutSec 30
    }

    # promtool check metrics on the text: its exit code and whatever it said.
    function Test-Promtool([string] $Text) {
        $said = $Text | & $promtool check metrics 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = "$said" }
    }

    # Samples by their name and labels as written: 'name{a="b"}' -> value.
    function ConvertFrom-Exposition([string] $Text) {
        $samples = @{}
        foreach ($line in $Text -split "`n") {
            if ($line -and -not $line.StartsWith('#')) {
                $cut = $line.LastIndexOf(' ')
                $samples[$line.Substring(0, $cut)] = [double]::Parse($line.Substring($cut + 1), [cultureinfo]::InvariantCulture)
            }
        }
        $samples
    }
}

AfterAll {
    Get-SmtpdProxy | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
    Get-SmtpFwd | Stop-SmtpFwd -TimeoutSeconds 0 -Confirm:$false
    Stop-TestProcess $processes
    if ($dns) { $dns.Stop() }
}

Describe 'Prometheus metrics of a proxy and a forwarder' {
    BeforeAll {
        $spool = Join-Path $TestDrive 'spool'
        $proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -MetricsListen 127.0.0.1:0 -DnsServer $dns.EndPoint -RulesPath $rules `
            -SpoolPath $spool -NoReverseLookup -IdentTimeoutSeconds 0 -NotoDelaySeconds 0
        $port = $proxy.LocalEndPoints[0].Port
    }

    AfterAll {
        if ($proxy.IsRunning) { $proxy | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false }
    }

    It 'serves the proxy''s counters, which promtool accepts and which equal the traffic sent' {
        $proxy.MetricsEndPoint.Port | Should -BeGreaterThan 0
        "$(Send-Mail -Port $port -To '<a1@example.test>', '<x@spam.test>')" | Should -Be '250 550'
        "$(Send-Mail -Port $port -To '<a2@example.test>', '<y@spam.test>')" | Should -Be '250 550'
        "$(Send-Mail -Port $port -To '<a3@example.test>')" | Should -Be '250'

        # The guard's first probe has ended once the zone's status is no longer unknown.
        Wait-Until { (ConvertFrom-Exposition ([string](Get-Scrape $proxy.MetricsEndPoint).Content))['smtpd_dnsbl_status{zone="bl.example.test",status="unknown"}'] -eq 0 } `
            -Seconds 30 -Because 'the DNSBL guard has probed bl.example.test'
        $scrape = Get-Scrape $proxy.MetricsEndPoint
        $scrape.StatusCode | Should -Be 200
        "$($scrape.Headers['Content-Type'])" | Should -Be 'text/plain; version=0.0.4; charset=utf-8'
        $text = [string]$scrape.Content
        $lint = Test-Promtool $text
        $lint.Output | Should -BeNullOrEmpty
        $lint.ExitCode | Should -Be 0

        $m = ConvertFrom-Exposition $text
        $m['smtpd_sessions_total'] | Should -Be 3
        $m['smtpd_messages_accepted_total'] | Should -Be 3
        $m['smtpd_recipients_refused_total'] | Should -Be 2
        $m['smtpd_sessions_denied_total'] | Should -Be 0
        $m['smtpd_recipient_verdicts_total{line="1",basis="rule",verdict="accepted"}'] | Should -Be 3
        $m['smtpd_recipient_verdicts_total{line="2",basis="rule",verdict="refused"}'] | Should -Be 2
        $m['smtpd_recipient_verdicts_total{line="2",basis="rule",verdict="accepted"}'] | Should -Be 0
        $m['smtpd_rule_info{line="2",rule="noto:ALL:ALL:*@spam.test"}'] | Should -Be 1
        $m['smtpd_spool_messages{state="ready"}'] | Should -Be 3
        $m['smtpd_spool_commits_total'] | Should -Be 3
        $m['smtpd_message_bytes_accepted_total'] | Should -BeGreaterThan 0
        $m['smtpd_start_time_seconds'] | Should -BeGreaterThan 1.7e9
        $zone = @($m.Keys | Where-Object { $_ -like 'smtpd_dnsbl_status{zone="bl.example.test",*' })
        $zone.Count | Should -Be 6   # one series per status
        ($zone | ForEach-Object { $m[$_] } | Measure-Object -Sum).Sum | Should -Be 1   # one-hot
        $m['smtpd_dnsbl_status{zone="bl.example.test",status="not_listing"}'] | Should -Be 1

        # Another process sees the endpoint through the control channel.
        "$((Get-SmtpdProxy -SpoolPath $spool).MetricsEndPoint)" | Should -Be "$($proxy.MetricsEndPoint)"
    }

    It 'closes the proxy''s endpoint when the proxy stops' {
        $at = $proxy.MetricsEndPoint
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $proxy | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        $client = [System.Net.Sockets.TcpClient]::new()
        try { { $client.Connect($at.Address, $at.Port) } | Should -Throw }
        finally { $client.Dispose() }
    }

    It 'serves the forwarder''s deliveries and their histograms, which promtool accepts' {
        $downstream = Start-DownstreamServer -Python $python -Capture (Join-Path $TestDrive 'downstream') -Processes $processes
        $fwd = Start-SmtpFwd -SpoolPath $spool -SmartHost "127.0.0.1:$($downstream.Port)" -TlsMode None -PollInterval '00:01:00' `
            -MetricsListen 127.0.0.1:0
        try {
            $fwd.MetricsEndPoint.Port | Should -BeGreaterThan 0
            Wait-Until { $fwd.Forwarded -eq 3 -and @(Get-SmtpdSpool -SpoolPath $spool).Count -eq 0 } -Seconds 60 `
                -Because 'the three spooled messages are forwarded' -Context { "forwarded $($fwd.Forwarded), deferred $($fwd.Deferred), failed $($fwd.Failed)" }
            @(Get-DownstreamEvent $downstream).Count | Should -Be 3

            $scrape = Get-Scrape $fwd.MetricsEndPoint
            $text = [string]$scrape.Content
            $lint = Test-Promtool $text
            $lint.Output | Should -BeNullOrEmpty
            $lint.ExitCode | Should -Be 0

            $m = ConvertFrom-Exposition $text
            $m['smtpfwd_attempts_total'] | Should -Be 3
            $m['smtpfwd_attempt_outcomes_total{outcome="forwarded"}'] | Should -Be 3
            $m['smtpfwd_attempt_outcomes_total{outcome="deferred"}'] | Should -Be 0
            $m['smtpfwd_recipients_delivered_total'] | Should -Be 3
            $m['smtpfwd_bounces_total'] | Should -Be 0
            $m['smtpfwd_attempt_duration_seconds_count'] | Should -Be 3
            $m['smtpfwd_attempt_duration_seconds_bucket{le="+Inf"}'] | Should -Be 3
            $m['smtpfwd_spool_time_seconds_count'] | Should -Be 3
            $m['smtpfwd_spool_messages{state="ready"}'] | Should -Be 0
            "$((Get-SmtpFwd -SpoolPath $spool).MetricsEndPoint)" | Should -Be "$($fwd.MetricsEndPoint)"
        }
        finally { $fwd | Stop-SmtpFwd -Confirm:$false }
        $fwd.MetricsEndPoint | Should -Not -BeNullOrEmpty   # still says where it was
    }
}

Describe '-MetricsListen errors' {
    BeforeAll {
        $errorSpool = Join-Path $TestDrive 'error-spool'
        $null = New-Item -ItemType Directory -Path $errorSpool -Force
    }

    AfterEach {
        # A start that should have failed and did not must not outlive its test.
        Get-SmtpdProxy | Where-Object SpoolPath -eq $errorSpool | Stop-SmtpdProxy -TimeoutSeconds 1 -Confirm:$false
        Get-SmtpFwd | Where-Object SpoolPath -eq $errorSpool | Stop-SmtpFwd -TimeoutSeconds 0 -Confirm:$false
    }

    It 'refuses -MetricsListen <Value> with InvalidMetricsListen' -ForEach @(
        @{ Value = 'localhost:9325' }, @{ Value = '127.0.0.1' }, @{ Value = '127.0.0.1:99999' }
    ) {
        $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -MetricsListen $Value -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $errorSpool } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidMetricsListen,*'
        $e.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $e.TargetObject | Should -Be $Value
        $e = { Start-SmtpFwd -SpoolPath $errorSpool -PickupDirectory (Join-Path $TestDrive drop) -MetricsListen $Value } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidMetricsListen,*'
    }

    It 'refuses a metrics port already in use with MetricsListenerBindFailed and leaves nothing running' {
        $busy = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $busy.Start()
        try {
            $busyPort = $busy.LocalEndpoint.Port
            $e = { Start-SmtpdProxy -Listen 127.0.0.1:0 -MetricsListen "127.0.0.1:$busyPort" -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $errorSpool } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'MetricsListenerBindFailed,*'
            $e.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $e.TargetObject | Should -Be "127.0.0.1:$busyPort"
            @(Get-SmtpdProxy | Where-Object SpoolPath -eq $errorSpool) | Should -HaveCount 0

            $e = { Start-SmtpFwd -SpoolPath $errorSpool -PickupDirectory (Join-Path $TestDrive drop) -MetricsListen "127.0.0.1:$busyPort" } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'MetricsListenerBindFailed,*'
            $e.TargetObject | Should -Be "127.0.0.1:$busyPort"
            @(Get-SmtpFwd | Where-Object SpoolPath -eq $errorSpool) | Should -HaveCount 0
        }
        finally { $busy.Stop() }
    }

    It 'refuses -MetricsListen with -Once: nothing would be left to scrape' {
        $e = { Start-SmtpFwd -SpoolPath $errorSpool -PickupDirectory (Join-Path $TestDrive drop) -MetricsListen 127.0.0.1:0 -Once } |
            Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'InvalidForwarderOption,*'
    }
}
