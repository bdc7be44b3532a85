#Requires -Version 7.0
# Export-SmtpdReport makes a morning report of what a live proxy and forwarder logged: a proxy on the
# loopback asks the test knotd (bl2.test lists 127.0.0.3), takes sessions from python's smtplib and
# from swaks, each from its own 127/8 address; a forwarder delivers to a downstream aiosmtpd that
# refuses one mailbox, so one recipient bounces. The page is rendered by headless Chromium
# (tests/tools/HeadlessChromium.ps1): no console errors, nothing fetched, and its charts hold one
# point per interval whose values add up to the traffic sent.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/../tools/HeadlessChromium.ps1"
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"

    $lines = @(
        'noto:RBL.bl2.test:ALL:ALL:550 5.7.1 %I is listed'    # 1: bl2.test lists 127.0.0.3
        'grey:ALL:*@grey.test:ALL'                            # 2: a sender greylisted
        'noto:ALL:*@spam.test:ALL:550 5.7.1 no mail from %F'  # 3
        'allow:ALL:ALL:*@example.test'                        # 4: verified against the list
        'noto:ALL:ALL:ALL:550 5.7.1 relaying denied')         # 5
    $rules = New-RulesFile -Name rules -Line $lines
    $recipients = New-RulesFile -Name recipients -Line @('a@example.test', 'b@example.test')
    $spool = Join-Path $TestDrive spool
    $proxyLog = Join-Path $TestDrive 'smtpd.log'
    $fwdLog = Join-Path $TestDrive 'smtpfwd.log'
    # The window: whole minutes around the traffic, so the charts' points are known in advance.
    $now = [DateTimeOffset]::UtcNow
    $windowStart = [DateTimeOffset]::new($now.Year, $now.Month, $now.Day, $now.Hour, $now.Minute, 0, [TimeSpan]::Zero).AddMinutes(-1)
    $windowEnd = $windowStart.AddMinutes(12)

    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath $spool `
        -LogPath $proxyLog -RecipientListPath $recipients -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -NoReverseLookup
    $port = $proxy.LocalEndPoints[0].Port

    $body = Join-Path $TestDrive 'body.eml'
    Set-Content -LiteralPath $body -Value "From: ok@example.org`r`nTo: a@example.test`r`nSubject: report test`r`n`r`nhello`r`n" -NoNewline
    function Send-Smtplib([string] $Source, [string] $From, [string[]] $To) { Send-SmtplibMail -Port $port -Source $Source -From $From -To $To -BodyFile $body }
    function Send-Swaks([string] $Source, [string] $From, [string] $To) { Send-SwaksMail -Port $port -Source $Source -From $From -To $To }

    # Five sessions: 2 messages (4 recipients) accepted; refused for good: 1 listed, 1 by line 3,
    # 1 unknown recipient, 1 relay by line 5; deferred: 1 greylisted.
    $sent = @(
        Send-Smtplib 127.0.0.7 '<ok@example.org>' '<a@example.test>', '<b@example.test>'
        Send-Smtplib 127.0.0.5 '<ok@example.org>' '<a@example.test>', '<nobody@example.test>', '<out@elsewhere.test>', '<b@example.test>'
        Send-Swaks 127.0.0.3 'x@example.org' 'b@example.test'
        Send-Swaks 127.0.0.4 'offers@spam.test' 'b@example.test'
        Send-Smtplib 127.0.0.6 '<x@grey.test>' '<a@example.test>')
    Wait-Until -Seconds 30 -Because 'the proxy logs two messages accepted and five sessions' -Context { Get-Content -LiteralPath $proxyLog -ErrorAction SilentlyContinue } -Condition {
        @(Select-String -LiteralPath $proxyLog -Pattern '"event":"accepted"' -SimpleMatch -ErrorAction SilentlyContinue).Count -ge 2 -and
        @(Select-String -LiteralPath $proxyLog -Pattern '"event":"disconnect"' -SimpleMatch -ErrorAction SilentlyContinue).Count -ge 5
    }

    # The downstream refuses b@ for good: each message bounces b@ back to ok@example.org.
    $downstream = Start-DownstreamServer -Python (Get-AiosmtpdPython) -Capture (Join-Path $TestDrive capture) -Processes $processes `
        -Option '--rcpt-reply', 'b=550 5.1.1 no such user'
    $summary = Start-SmtpFwd -SpoolPath $spool -SmartHost "127.0.0.1:$($downstream.Port)" -TlsMode None -LogPath $fwdLog -Once

    $report = Join-Path $TestDrive 'report.html'
    $result = Export-SmtpdReport -LogPath $proxyLog, $fwdLog -Path $report -After $windowStart.UtcDateTime -Before $windowEnd.UtcDateTime `
        -Interval 00:01:00 -SpoolPath $spool -UtcTime -Title 'Test report' -PassThru
}

AfterAll {
    if ($proxy -and $proxy.IsRunning) { Stop-SmtpdProxy -InputObject $proxy -TimeoutSeconds 1 -Confirm:$false }
    Stop-TestProcess $processes
    if ($dns) { $dns.Stop() }
}

Describe 'Export-SmtpdReport on a live proxy''s and forwarder''s logs' {
    It 'saw the traffic decided as the rules say' {
        $sent[0].rcpt | ForEach-Object { $_[0] } | Should -Be 250, 250
        $sent[1].rcpt | ForEach-Object { $_[0] } | Should -Be 250, 550, 550, 250
        $sent[2] | Should -Match '<\*\* 550 5\.7\.1 127\.0\.0\.3 is listed'
        $sent[3] | Should -Match '<\*\* 550 5\.7\.1 no mail from <offers@spam\.test>'
        $sent[4].rcpt[0][0] | Should -Be 450
        $summary.Bounced | Should -Be 2 -Because 'the downstream refused b@ in each message'
    }

    It 'counts the traffic sent' {
        $result.Path | Should -Be (Resolve-Path -LiteralPath $report).ProviderPath
        $result.Sessions | Should -Be 5
        $result.MessagesAccepted | Should -Be 2
        $result.RecipientsAccepted | Should -Be 4
        $result.Refused | Should -Be 4
        $result.Deferred | Should -Be 1
        $reasons = @{}; $result.RefusalsByReason | ForEach-Object { $reasons[$_.Key] = $_.Count }
        $reasons['DNSBL listing'] | Should -Be 1
        $reasons['Greylisting'] | Should -Be 1
        $reasons['Unknown recipient (verification)'] | Should -Be 1
        $reasons['Rule: noto'] | Should -Be 2 -Because 'lines 3 and 5 each refused once'
        ($result.RefusalsByLine | Where-Object Line -EQ 5).Refused | Should -Be 1
        ($result.RefusalsByLine | Where-Object Line -EQ 2).Deferred | Should -Be 1
        ($result.TopClients | Where-Object Key -EQ '127.0.0.5').Count | Should -Be 2
        ($result.TopSenders | Where-Object Key -EQ '<offers@spam.test>').Count | Should -Be 1
    }

    It 'shows each DNSBL asked, greylisting and verification as the checks answered' {
        $zone = $result.Dnsbl | Where-Object Zone -EQ 'bl2.test'
        $zone.Checked | Should -Be 5 -Because 'every session''s client was looked up once'
        $zone.Listed | Should -Be 1
        $zone.Failed | Should -Be 0
        ($result.Greylisting | Where-Object Key -EQ 'FirstSeen').Count | Should -Be 1
        ($result.Verification | Where-Object Key -EQ 'Unknown').Count | Should -Be 1
        ($result.Verification | Where-Object Key -EQ 'Known').Count | Should -Be 4
    }

    It 'counts the forwarder''s deliveries, bounces and the waits in the spool' {
        $result.RecipientsDelivered | Should -Be 4 -Because 'a@ of each message, and each bounce to ok@example.org'
        $result.Bounces | Should -Be 2 -Because 'b@ was refused downstream in each of the two messages'
        $result.DeliveryDelay.Count | Should -BeGreaterOrEqual 1
        $result.DeliveryDelay.Maximum | Should -BeLessThan 600
        @($result.SpoolDepth).Count | Should -Be 6
    }

    It 'takes the logs of a running proxy and forwarder from the pipeline' {
        $fwd = Start-SmtpFwd -SpoolPath $spool -SmartHost "127.0.0.1:$($downstream.Port)" -TlsMode None -LogPath $fwdLog -PollInterval 01:00:00
        try {
            $fwd.LogPath | Should -Be $fwdLog
            (Get-SmtpFwd -SpoolPath $spool).LogPath | Should -Be $fwdLog -Because 'another process learns it from the control channel'
            $piped = $proxy, $fwd | Export-SmtpdReport -Path (Join-Path $TestDrive 'piped.html') -After $windowStart.UtcDateTime `
                -Before $windowEnd.UtcDateTime -PassThru
            $piped.MessagesAccepted | Should -Be 2
            $piped.RecipientsDelivered | Should -Be 4
            @($piped.LogFiles | ForEach-Object { Split-Path -Leaf $_ }) | Should -Be 'smtpd.log', 'smtpfwd.log'
        }
        finally { $fwd | Stop-SmtpFwd -Confirm:$false }
    }

    It 'loads in headless Chromium with no console errors, fetching nothing, with one point per minute and series' {
        $shot = Join-Path $TestDrive 'report.png'
        $page = Invoke-HeadlessPage -Path $report -ScreenshotPath $shot -Width 1100 -FullPage -Evaluate @{
            mail      = "[...document.querySelectorAll('svg[data-chart=mail] circle.point')].length"
            accepted  = "[...document.querySelectorAll('svg[data-chart=mail] circle.point[data-series=accepted]')].map(c => +c.dataset.value)"
            refused   = "[...document.querySelectorAll('svg[data-chart=mail] circle.point[data-series=refused]')].map(c => +c.dataset.value)"
            deferred  = "[...document.querySelectorAll('svg[data-chart=mail] circle.point[data-series=deferred]')].map(c => +c.dataset.value)"
            delivered = "[...document.querySelectorAll('svg[data-chart=delivery] circle.point[data-series=delivered]')].map(c => +c.dataset.value)"
            bounced   = "[...document.querySelectorAll('svg[data-chart=delivery] circle.point[data-series=bounced]')].map(c => +c.dataset.value)"
            scripts   = 'document.scripts.length'
            rows      = "document.querySelectorAll('table.numbers[data-table=mail] tr').length"
        }
        $page.Errors | Should -BeNullOrEmpty
        $page.LoadedUrls | Should -HaveCount 1 -Because 'the page fetches nothing but itself'
        $page.LoadedUrls[0] | Should -BeLike 'file:*/report.html'
        $page.Title | Should -BeLike 'Test report, *'
        $page.Values.scripts | Should -Be 0
        $page.Values.mail | Should -Be 36 -Because 'twelve one-minute intervals, three series'
        foreach ($series in 'accepted', 'refused', 'deferred', 'delivered', 'bounced') { @($page.Values[$series]).Count | Should -Be 12 }
        ($page.Values.accepted | Measure-Object -Sum).Sum | Should -Be 2
        ($page.Values.refused | Measure-Object -Sum).Sum | Should -Be 4
        ($page.Values.deferred | Measure-Object -Sum).Sum | Should -Be 1
        ($page.Values.delivered | Measure-Object -Sum).Sum | Should -Be $result.RecipientsDelivered
        ($page.Values.bounced | Measure-Object -Sum).Sum | Should -Be 2
        $page.Values.rows | Should -Be 13 -Because 'the table under the chart has a heading and one row per interval'
        $bytes = [System.IO.File]::ReadAllBytes($shot)
        [BitConverter]::ToString($bytes, 0, 8) | Should -Be '89-50-4E-47-0D-0A-1A-0A'
        if ($env:SMTPD_REPORT_SCREENSHOT) { Copy-Item -LiteralPath $shot -Destination $env:SMTPD_REPORT_SCREENSHOT }
    }
}

Describe 'Export-SmtpdReport on a log it did not see written' {
    BeforeAll {
        # Six hours of decisions, one an hour, made from a real decision line of the proxy's log; the
        # client's name and the sender carry markup, as a hostile client would send.
        $template = Get-Content -LiteralPath $proxyLog | Where-Object { $_ -match '"event":"decision"' -and $_ -match '"verdict":"Reject"' } |
            Select-Object -First 1 | ConvertFrom-Json -AsHashtable
        $crafted = Join-Path $TestDrive 'crafted.log'
        $start = [DateTimeOffset]::new(2026, 1, 1, 0, 0, 0, [TimeSpan]::Zero)
        $out = foreach ($h in 0..5) {
            $d = $template.Clone()
            $d.time = $start.AddHours($h).AddMinutes(30).ToString('o')
            $d.session = "S$h"
            $d.name = '<script>alert(1)</script>'
            $d.clientAddress = "192.0.2.$($h + 10)"
            $d.from = '<"<img src=x onerror=alert(2)>"@evil.test>'
            $d | ConvertTo-Json -Compress -Depth 10
        }
        $out += '{"time": not json'
        Set-Content -LiteralPath $crafted -Value $out
        $craftedReport = Join-Path $TestDrive 'crafted.html'
        $crafedResult = Export-SmtpdReport $crafted $craftedReport -After $start.UtcDateTime -Before $start.AddHours(6).UtcDateTime `
            -UtcTime -PassThru -ErrorVariable craftedErrors -ErrorAction SilentlyContinue
    }

    It 'chooses its interval, one point per hour, and reports the damaged line' {
        $crafedResult.Interval | Should -Be ([TimeSpan]::FromMinutes(5)) -Because 'the shortest step of at most 96 points in six hours'
        @($crafedResult.Buckets).Count | Should -Be 72
        $crafedResult.Refused | Should -Be 6
        $crafedResult.UnreadableLines | Should -Be 1
        $craftedErrors[0].FullyQualifiedErrorId | Should -BeLike 'LogLineUnreadable,*'
        $craftedErrors[0].TargetObject | Should -Be "${crafted}:7"
        (Get-Content -Raw -LiteralPath $craftedReport) | Should -Match 'Unreadable lines passed over: 1'
    }

    It 'shows markup from the log as text, never as markup' {
        $hourly = Join-Path $TestDrive 'hourly.html'
        Export-SmtpdReport $crafted $hourly -After $start.UtcDateTime -Before $start.AddHours(6).UtcDateTime -Interval 01:00:00 -ErrorAction SilentlyContinue
        $page = Invoke-HeadlessPage -Path $hourly -Evaluate @{
            points = "[...document.querySelectorAll('svg[data-chart=mail] circle.point[data-series=refused]')].map(c => +c.dataset.value)"
            text   = 'document.body.innerText'
            active = "document.querySelectorAll('script, img, iframe, object, embed').length"
        }
        $page.Errors | Should -BeNullOrEmpty
        $page.Values.points | Should -Be 1, 1, 1, 1, 1, 1
        $page.Values.active | Should -Be 0
        $page.Values.text | Should -Match ([regex]::Escape('<"<img src=x onerror=alert(2)>"@evil.test>'))
        (Get-Content -Raw -LiteralPath $hourly) | Should -Not -Match '<script>'
    }
}

Describe 'Export-SmtpdReport errors' {
    It 'refuses a window that ends before it starts' {
        { Export-SmtpdReport $proxyLog (Join-Path $TestDrive 'x.html') -After '2026-01-02' -Before '2026-01-01' -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidReportWindow,SmtpdModule.Commands.ExportSmtpdReportCommand'
    }

    It 'refuses an interval that makes too many points' {
        { Export-SmtpdReport $proxyLog (Join-Path $TestDrive 'x.html') -After '2026-01-01' -Before '2026-01-02' -Interval 00:00:01 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidReportWindow,SmtpdModule.Commands.ExportSmtpdReportCommand'
    }

    It 'keeps an existing file with -NoClobber, and writes nothing with -WhatIf' {
        $kept = Join-Path $TestDrive 'kept.html'
        Set-Content -LiteralPath $kept -Value 'mine'
        Export-SmtpdReport $proxyLog $kept -NoClobber -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ReportFileExists,*'
        $err[0].TargetObject | Should -Be $kept
        Get-Content -LiteralPath $kept | Should -Be 'mine'
        $none = Join-Path $TestDrive 'none.html'
        Export-SmtpdReport $proxyLog $none -WhatIf
        Test-Path -LiteralPath $none | Should -BeFalse
    }

    It 'names a log that is not there, and still writes the page of the others' {
        $partial = Join-Path $TestDrive 'partial.html'
        Export-SmtpdReport (Join-Path $TestDrive 'missing.log'), $proxyLog $partial -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'LogFileNotFound,*'
        Test-Path -LiteralPath $partial | Should -BeTrue
    }

    It 'reports a folder that cannot hold the page' {
        Export-SmtpdReport $proxyLog (Join-Path $TestDrive 'no/such/folder/r.html') -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -BeLike 'ReportNotWritten,*'
    }
}
