#Requires -Version 7.0
# Greylisting and rate limits through a running proxy, with python's smtplib as the retrying sender
# (tests/fixtures/smtp/pester_send.py, each client bound to its own loopback address, 127.0.0.0/8 being
# local on Linux). DNS is the test knotd: local.example.test's SPF authorises all of 127.0.0.0/8, while
# example.test's does not, so a@example.test is keyed by the client's /24 and x@local.example.test by
# its domain. One wait of -GreylistDelay serves every case: first tries, then the wait, then retries.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: retry`r`n`r`nhello`r`n"))
    $rules = New-RulesFile -Name rules -Line @(
        'grey:ALL:ALL:ALL'
        'allow:ALL:ALL:*@example.test'
        'noto:ALL:ALL:ALL:550 5.7.1 relaying denied')
    $delay = [TimeSpan]::FromSeconds(6)
    $started = [System.Collections.Generic.List[object]]::new()

    function Start-GreyProxy {
        param([string] $Name, [hashtable] $More = @{})
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive $Name) `
            -NoReverseLookup -IdentTimeoutSeconds 0 -GreetWaitSeconds 0 -GreylistDelay $delay @More
        $started.Add($p)
        $p
    }

    function Send-Mail {
        param($Proxy, [string] $Source, [string] $From = '<a@example.test>', [string] $To = '<b@example.test>')
        $out = & $python $sendScript --port $Proxy.LocalEndPoints[0].Port --source $Source --from $From --to $To --body-file $body 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }

    function Get-Spooled([string] $Name) { @(Get-ChildItem -LiteralPath (Join-Path (Join-Path $TestDrive $Name) ready) -Filter *.msg -ErrorAction SilentlyContinue) }

    $proxy = Start-GreyProxy -Name grey -More @{ GreylistAutoAllowAfter = 0; Greytrap = 'trap@example.test' }
    $auto = Start-GreyProxy -Name auto -More @{ GreylistAutoAllowAfter = 1 }
}

AfterAll {
    foreach ($p in $started) { if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false } }
    if ($dns) { $dns.Stop() }
}

Describe 'grey through a running proxy' {
    It 'defers every first try, and a retry before the delay' {
        $script:firstTry = [DateTime]::UtcNow
        $first = Send-Mail $proxy 127.0.0.2
        $first.rcpt[0][0] | Should -Be 450
        $first.rcpt[0][1] | Should -BeLike '4.7.1 Greylisted, please try again in*'
        $first.data | Should -BeNullOrEmpty
        (Send-Mail $proxy 127.0.1.5 -From '<x@local.example.test>').rcpt[0][0] | Should -Be 450
        (Send-Mail $proxy 127.0.2.9 -To '<victim@elsewhere.test>').rcpt[0][0] | Should -Be 450
        # The greytrap: 127.0.3.9 writes to it; its neighbour 127.0.3.10 only tries b@example.test.
        (Send-Mail $proxy 127.0.3.9 -To '<trap@example.test>').rcpt[0][0] | Should -Be 450
        (Send-Mail $proxy 127.0.3.10).rcpt[0][0] | Should -Be 450
        (Send-Mail $auto 127.0.4.1 -From '<s1@example.test>').rcpt[0][0] | Should -Be 450

        $early = Send-Mail $proxy 127.0.0.2
        ([DateTime]::UtcNow - $script:firstTry) | Should -BeLessThan $delay -Because 'the early retry must come before the delay ends'
        $early.rcpt[0][0] | Should -Be 450
        Get-Spooled grey | Should -BeNullOrEmpty
    }

    It 'lets a retry after the delay through to the next line, from any address of the network' {
        # The behaviour is time itself: wait out the delay once for every case below.
        $left = $script:firstTry + $delay + [TimeSpan]::FromMilliseconds(500) - [DateTime]::UtcNow
        if ($left -gt [TimeSpan]::Zero) { Start-Sleep -Milliseconds ([int]$left.TotalMilliseconds) }

        $retry = Send-Mail $proxy 127.0.0.77
        $retry.rcpt[0][0] | Should -Be 250
        $retry.data[0] | Should -Be 250
        @(Get-Spooled grey).Count | Should -Be 1
    }

    It 'keys a sender whose SPF passes by its domain, so it passes from another network' {
        $r = Send-Mail $proxy 127.0.9.5 -From '<x@local.example.test>'
        $r.rcpt[0][0] | Should -Be 250
    }

    It 'never lets a retried stranger relay: the next line refuses' {
        $r = Send-Mail $proxy 127.0.2.9 -To '<victim@elsewhere.test>'
        $r.rcpt[0][0] | Should -Be 550
        $r.rcpt[0][1] | Should -Be '5.7.1 relaying denied'
    }

    It 'refuses the address that wrote to a greytrap in its next sessions, and only that address' {
        (Send-Mail $proxy 127.0.3.10).rcpt[0][0] | Should -Be 250
        $trapped = Send-Mail $proxy 127.0.3.9
        $trapped.rcpt[0][0] | Should -Be 450
        $trapped.rcpt[0][1] | Should -BeLike '4.7.1 127.0.3.9 is refused for a while*'
    }

    It 'auto-allows a network that proved itself: a new sender is not greylisted' {
        (Send-Mail $auto 127.0.4.1 -From '<s1@example.test>').rcpt[0][0] | Should -Be 250
        (Send-Mail $auto 127.0.4.200 -From '<s2@example.test>').rcpt[0][0] | Should -Be 250
    }

    It 'shows a first try as Grey in Test-SmtpdRule, which writes nothing' {
        $d = Test-SmtpdRule -Path $rules -ClientAddress 192.0.2.1 -ClientName '' -From '<a@example.test>' -To '<b@example.test>' -DnsServer $dns.EndPoint
        $d.Action | Should -Be 'Grey'
        $d.Reply | Should -BeLike '450 4.7.1 Greylisted*'
    }
}

Describe 'rate limits through a running proxy' {
    It 'turns away the connection over -MaxConnectionsPerMinute with 421, and an exempt network never' {
        $limited = Start-GreyProxy -Name rate -More @{ MaxConnectionsPerMinute = 2; RateLimitExempt = '127.0.8.0/24' }
        # Two connections within the minute pass (greylisted, but greeted); the third is refused before any greeting.
        # A minute boundary between them would start a fresh count: wait for one when it is near.
        $second = [DateTime]::UtcNow.Second
        if ($second -ge 50) { Start-Sleep -Seconds (61 - $second) }
        (Send-Mail $limited 127.0.5.1).rcpt[0][0] | Should -Be 450
        (Send-Mail $limited 127.0.5.2).rcpt[0][0] | Should -Be 450
        $third = Send-Mail $limited 127.0.5.3
        $third.connect[0] | Should -Be 421
        $third.connect[1] | Should -BeLike '4.7.0 Too many connections from 127.0.5.0/24*'
        foreach ($i in 1..3) { (Send-Mail $limited "127.0.8.$i").rcpt[0][0] | Should -Be 450 }
    }
}
