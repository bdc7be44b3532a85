#Requires -Version 7.0
# The embedded state store under greylisting: what a proxy learnt survives a graceful restart and a
# SIGKILL. A proxy runs as a service would (Start-SmtpdProxy -Wait in a child pwsh) and is killed with
# SIGKILL after a first try; a new proxy on the same spool (its proxy-state/ folder) lets the retry
# through after the delay, and so does the proxy after it in turn restarts gracefully. smtplib sends;
# DNS is the NXDOMAIN knotd.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $modulePath = (Resolve-Path -LiteralPath "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1").ProviderPath
    $processes = [System.Collections.Generic.List[System.Diagnostics.Process]]::new()
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $python = Get-TestPython
    $body = Join-Path $TestDrive body.eml
    [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: kept`r`n`r`nhello`r`n"))
    $rules = New-RulesFile -Name rules -Line @('grey:ALL:ALL:ALL', 'allow:ALL:ALL:ALL')
    $spool = Join-Path $TestDrive spool
    $delay = [TimeSpan]::FromSeconds(4)
    $proxyArguments = @{ DnsServer = $dns.EndPoint; RulesPath = $rules; SpoolPath = $spool; NoReverseLookup = $true
                         IdentTimeoutSeconds = 0; GreetWaitSeconds = 0; GreylistDelay = $delay; GreylistAutoAllowAfter = 0 }

    function Send-Mail([int] $Port, [string] $From) {
        $out = & $python $sendScript --port $Port --source 127.0.10.1 --from $From --to '<b@example.test>' --body-file $body 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pester_send.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }

    function Get-FreePort {
        $l = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $l.Start(); try { $l.LocalEndpoint.Port } finally { $l.Stop() }
    }

    function Wait-Delay([DateTime] $Since) {
        $left = $Since + $delay + [TimeSpan]::FromMilliseconds(500) - [DateTime]::UtcNow
        if ($left -gt [TimeSpan]::Zero) { Start-Sleep -Milliseconds ([int]$left.TotalMilliseconds) }
    }
}

AfterAll {
    foreach ($p in $processes) { if (-not $p.HasExited) { $p.Kill($true) } }
    if ($script:proxy -and $script:proxy.IsRunning) { Stop-SmtpdProxy -InputObject $script:proxy -TimeoutSeconds 1 -Confirm:$false }
    if ($dns) { $dns.Stop() }
}

Describe 'greylisting state in the embedded store' {
    It 'survives a SIGKILL of the proxy that learnt it' {
        $port = Get-FreePort
        $command = "Start-SmtpdProxy -Listen 127.0.0.1:$port -DnsServer $(Quote $dns.EndPoint) -RulesPath $(Quote $rules) -SpoolPath $(Quote $spool) " +
                   "-NoReverseLookup -IdentTimeoutSeconds 0 -GreetWaitSeconds 0 -GreylistDelay 00:00:04 -GreylistAutoAllowAfter 0 -Wait"
        $child = Start-ChildPwsh -Name service -Command $command
        Wait-Until -Because 'the service proxy listens' -Seconds 60 -Context $child.Log -Condition {
            $c = [System.Net.Sockets.TcpClient]::new()
            try { $c.Connect('127.0.0.1', $port); $true } catch { $false } finally { $c.Dispose() }
        }
        $script:firstTry = [DateTime]::UtcNow
        (Send-Mail $port '<one@example.org>').rcpt[0][0] | Should -Be 450
        (Send-Mail $port '<two@example.org>').rcpt[0][0] | Should -Be 450
        $child.Process.Kill()   # SIGKILL: no stop, no flush beyond what each write already did
        $child.Process.WaitForExit(15000) | Should -BeTrue

        $script:proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 @proxyArguments
        Wait-Delay $script:firstTry
        $retry = Send-Mail $script:proxy.LocalEndPoints[0].Port '<one@example.org>'
        $retry.rcpt[0][0] | Should -Be 250 -Because 'the first try, written before the SIGKILL, is still known'
        $retry.data[0] | Should -Be 250
    }

    It 'survives a graceful restart' {
        Stop-SmtpdProxy -InputObject $script:proxy -TimeoutSeconds 5 -Confirm:$false
        $script:proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 @proxyArguments
        $port = $script:proxy.LocalEndPoints[0].Port
        (Send-Mail $port '<one@example.org>').rcpt[0][0] | Should -Be 250 -Because 'the passed triplet is kept'
        (Send-Mail $port '<two@example.org>').rcpt[0][0] | Should -Be 250 -Because 'its first try, from before the SIGKILL, is kept'
        (Send-Mail $port '<three@example.org>').rcpt[0][0] | Should -Be 450 -Because 'a new sender is still greylisted'
        Test-Path -LiteralPath (Join-Path $spool 'proxy-state/state.journal') | Should -BeTrue
    }

    It 'refuses a second proxy on a -StatePath in use with StateStoreUnusable' {
        $state = Join-Path $TestDrive 'own-state'
        $first = Start-SmtpdProxy -Listen 127.0.0.1:0 @proxyArguments -SpoolPath (Join-Path $TestDrive 'spool-a') -StatePath $state
        try {
            { Start-SmtpdProxy -Listen 127.0.0.1:0 @proxyArguments -SpoolPath (Join-Path $TestDrive 'spool-b') -StatePath $state } |
                Should -Throw -ErrorId 'StateStoreUnusable,SmtpdModule.Commands.StartSmtpdProxyCommand'
        }
        finally { Stop-SmtpdProxy -InputObject $first -TimeoutSeconds 1 -Confirm:$false }
    }

    It 'lets a second proxy on the same spool start, its state in memory' {
        # A spool can take a second proxy (about_SmtpdSpool); the spool's state folder stays the first one's.
        $second = Start-SmtpdProxy -Listen 127.0.0.1:0 @proxyArguments
        try { $second.IsRunning | Should -BeTrue }
        finally { Stop-SmtpdProxy -InputObject $second -TimeoutSeconds 1 -Confirm:$false }
        $script:proxy.IsRunning | Should -BeTrue
    }
}
