#Requires -Version 7.0
# Two proxies on one real redis-server (Debian's package, started on 127.0.0.1 with a password by
# tests/tools/Start-TestRedis.ps1): a sender greylisted at one passes at the other, a rate limit holds
# across both, and with redis-server stopped mid-run every session ends within a short bound as the
# fail mode says (Open: through to the next line; Closed: 451 4.3.0). Clients are python's smtplib bound
# to loopback addresses; DNS is the NXDOMAIN knotd (no sender's SPF passes: keys are networks).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $redis = & "$PSScriptRoot/../tools/Start-TestRedis.ps1"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: shared`r`n`r`nhello`r`n"))
    $rules = New-RulesFile -Name rules -Line @('grey:ALL:ALL:ALL', 'allow:ALL:ALL:ALL')
    $delay = [TimeSpan]::FromSeconds(5)
    $started = [System.Collections.Generic.List[object]]::new()

    function Start-SharedProxy {
        param([string] $Name, [hashtable] $More = @{})
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive $Name) `
            -NoReverseLookup -IdentTimeoutSeconds 0 -GreetWaitSeconds 0 -GreylistDelay $delay -GreylistAutoAllowAfter 0 `
            -MaxConnectionsPerMinute 3 -StateStore $redis.Uri -StateStoreCredential $redis.Credential @More
        $started.Add($p)
        $p
    }

    function Send-Mail {
        param($Proxy, [string] $Source, [string] $From = '<a@example.org>')
        $out = & $python $sendScript --port $Proxy.LocalEndPoints[0].Port --source $Source --from $From --to '<b@example.test>' --body-file $body --timeout 20 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }

    $mx1 = Start-SharedProxy -Name mx1
    $mx2 = Start-SharedProxy -Name mx2
    $closed = Start-SharedProxy -Name closed -More @{ StateStoreFailMode = 'Closed' }
}

AfterAll {
    foreach ($p in $started) { if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false } }
    if ($redis) { $redis.Stop() }
    if ($dns) { $dns.Stop() }
}

Describe 'proxies sharing one Redis' {
    It 'passes at one MX a sender greylisted at the other' {
        $firstTry = [DateTime]::UtcNow
        (Send-Mail $mx1 127.0.6.1).rcpt[0][0] | Should -Be 450
        (Send-Mail $mx2 127.0.6.1).rcpt[0][0] | Should -Be 450   # too early at the other MX too: one triplet
        $left = $firstTry + $delay + [TimeSpan]::FromMilliseconds(500) - [DateTime]::UtcNow
        if ($left -gt [TimeSpan]::Zero) { Start-Sleep -Milliseconds ([int]$left.TotalMilliseconds) }
        $retry = Send-Mail $mx2 127.0.6.1
        $retry.rcpt[0][0] | Should -Be 250
        $retry.data[0] | Should -Be 250
    }

    It 'holds a rate limit across both' {
        # Three connections a minute per network in all: a minute boundary between them would start a fresh count.
        $second = [DateTime]::UtcNow.Second
        if ($second -ge 50) { Start-Sleep -Seconds (61 - $second) }
        (Send-Mail $mx1 127.0.7.1).rcpt[0][0] | Should -Be 450
        (Send-Mail $mx2 127.0.7.2).rcpt[0][0] | Should -Be 450
        (Send-Mail $mx1 127.0.7.3).rcpt[0][0] | Should -Be 450
        $fourth = Send-Mail $mx2 127.0.7.4
        $fourth.connect[0] | Should -Be 421
    }

    It 'follows the fail mode with redis-server stopped, and no session hangs' {
        $redis.Stop()
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $open = Send-Mail $mx1 127.0.9.1
        $open.rcpt[0][0] | Should -Be 250 -Because 'fail mode Open: the grey line lets the recipient through to the next line'
        $open.data[0] | Should -Be 250
        $shut = Send-Mail $closed 127.0.9.2
        $shut.rcpt[0][0] | Should -Be 451
        $shut.rcpt[0][1] | Should -BeLike '4.3.0 Greylisting is unavailable*'
        $clock.Elapsed | Should -BeLessThan ([TimeSpan]::FromSeconds(10)) -Because 'every state operation is bounded (250 ms)'
        $mx1.IsRunning | Should -BeTrue
    }
}
