#Requires -Version 7.0
# The protocol tests inside the session through the cmdlets: Start-SmtpdProxy's -*Action,
# -GreetWaitSeconds and -ProtocolTestExempt bind and act, Test-SmtpdRule -FailedTest feeds FAILED=,
# and bad values stop with stable error ids. Every proxy listens on 127.0.0.1 port 0 and asks only
# the NXDOMAIN knotd on the loopback. The hostile client is tests/fixtures/smtp/protocol_probe.py,
# the honest one python's smtplib (pester_send.py).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $sendScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/pester_send.py").ProviderPath
    $probeScript = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/smtp/protocol_probe.py").ProviderPath
    $python = Get-TestPython
    $started = [System.Collections.Generic.List[object]]::new()
    $rules = New-RulesFile -Name rules -Line 'allow:ALL:ALL:ALL'

    function Start-TestProxy {
        param([string] $Name, [hashtable] $More = @{})
        $p = Start-SmtpdProxy -Listen '127.0.0.1:0' -DnsServer $dns.EndPoint -RulesPath $rules -SpoolPath (Join-Path $TestDrive $Name) `
            -NoReverseLookup -IdentTimeoutSeconds 0 -NotoDelaySeconds 0 -DenyDelaySeconds 0 @More
        $started.Add($p)
        $p
    }

    # One raw conversation: each step's text in one write, then that many replies.
    function Invoke-Probe {
        param([int] $Port, [object[]] $Steps)
        $spec = @{ host = '127.0.0.1'; port = $Port; timeout = 10; until_close = $true; steps = $Steps } | ConvertTo-Json -Depth 4 -Compress
        $out = $spec | & $python $probeScript - 2>&1
        if ($LASTEXITCODE -ne 0) { throw "protocol_probe.py exited with $LASTEXITCODE`: $out" }
        $out | ConvertFrom-Json
    }
}

AfterAll {
    foreach ($p in $started) {
        if ($p.IsRunning) { Stop-SmtpdProxy -InputObject $p -TimeoutSeconds 1 -Confirm:$false }
    }
    if ($dns) { $dns.Stop() }
}

Describe 'Start-SmtpdProxy protocol tests' {
    It 'refuses a pregreeter at RCPT with -PregreetAction Enforce and lets smtplib through' {
        $proxy = Start-TestProxy -Name enforce -More @{ PregreetAction = 'Enforce'; GreetWaitSeconds = 1 }
        $port = $proxy.LocalEndPoints[0].Port

        $r = Invoke-Probe -Port $port -Steps @(
            @{ send = "EHLO bot.example`r`n"; replies = 2 },
            @{ send = "MAIL FROM:<a@example.org>`r`n"; replies = 1 },
            @{ send = "RCPT TO:<b@example.test>`r`n"; replies = 1 })
        $r.replies[0] | Should -BeLike '220-*'
        $r.replies[3] | Should -BeLike '521 5.5.1 Protocol error: pregreet*'
        $r.closed | Should -BeTrue

        $body = Join-Path $TestDrive body.eml
        [System.IO.File]::WriteAllBytes($body, [System.Text.Encoding]::ASCII.GetBytes("Subject: honest`r`n`r`nhello`r`n"))
        $out = & $python $sendScript --port $port --from '<a@example.org>' --to '<b@example.test>' --body-file $body | ConvertFrom-Json
        $out.rcpt[0][0] | Should -Be 250
        $out.data[0] | Should -Be 250
    }

    It 'answers GET with 521 and closes by default, and not for an exempt network' {
        $proxy = Start-TestProxy -Name http
        $r = Invoke-Probe -Port $proxy.LocalEndPoints[0].Port -Steps @(@{ send = ''; replies = 1 }, @{ send = "GET / HTTP/1.0`r`n`r`n"; replies = 1 })
        $r.replies[1] | Should -BeLike '521 5.5.1*'
        $r.closed | Should -BeTrue

        $exempt = Start-TestProxy -Name exempt -More @{ ProtocolTestExempt = '127.0.0.0/8', '::1' }
        $r = Invoke-Probe -Port $exempt.LocalEndPoints[0].Port -Steps @(@{ send = ''; replies = 1 }, @{ send = "GET / HTTP/1.0`r`nQUIT`r`n"; replies = 2 })
        $r.replies[1] | Should -BeLike '500 5.5.1*'
        $r.replies[2] | Should -BeLike '221*'
    }

    It 'stops with InvalidProxyOption for a network that is not one' {
        { Start-TestProxy -Name bad -More @{ ProtocolTestExempt = '10.0.0.0/33' } } |
            Should -Throw -ErrorId 'InvalidProxyOption,SmtpdModule.Commands.StartSmtpdProxyCommand'
    }

    It 'refuses an unknown action and a greet wait out of range at binding' {
        { Start-TestProxy -Name bad2 -More @{ PregreetAction = 'Drop' } } |
            Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,SmtpdModule.Commands.StartSmtpdProxyCommand'
        { Start-TestProxy -Name bad3 -More @{ GreetWaitSeconds = 61 } } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,SmtpdModule.Commands.StartSmtpdProxyCommand'
    }
}

Describe 'Test-SmtpdRule -FailedTest' {
    BeforeAll {
        $failedRules = New-RulesFile -Name failed -Line 'deny:FAILED=pregreet FAILED=non-smtp:ALL:ALL:550 5.5.1 %I talks out of turn', 'allow:ALL:ALL:ALL'
    }

    It 'decides with the failed tests it is given' {
        $t = @{ Path = $failedRules; ClientAddress = '198.51.100.7'; ClientName = ''; From = '<a@example.org>'; To = '<b@example.test>' }
        (Test-SmtpdRule @t).Action | Should -Be 'Allow'
        (Test-SmtpdRule @t -FailedTest pregreet).Action | Should -Be 'Deny'
        (Test-SmtpdRule @t -FailedTest pipelining, bare-newline).Action | Should -Be 'Allow'
        (Test-SmtpdRule @t -FailedTest ANY).LineNumber | Should -Be 1
    }

    It 'binds FailedTest by property name from CSV rows' {
        $rows = @(
            [pscustomobject]@{ ClientAddress = '198.51.100.7'; ClientName = ''; From = '<a@example.org>'; To = '<b@example.test>'; FailedTest = 'non-smtp' },
            [pscustomobject]@{ ClientAddress = '198.51.100.8'; ClientName = ''; From = '<a@example.org>'; To = '<b@example.test>'; FailedTest = $null })
        ($rows | Test-SmtpdRule -Path $failedRules).Action | Should -Be 'Deny', 'Allow'
    }

    It 'reports an unknown test name as InvalidProtocolTest and goes on with the next record' {
        $rows = @(
            [pscustomobject]@{ ClientAddress = '198.51.100.7'; From = '<a@example.org>'; To = '<b@example.test>'; FailedTest = 'pregret' },
            [pscustomobject]@{ ClientAddress = '198.51.100.8'; From = '<a@example.org>'; To = '<b@example.test>'; FailedTest = 'pregreet' })
        $d = $rows | Test-SmtpdRule -Path $failedRules -ClientName '' -ErrorVariable err -ErrorAction SilentlyContinue
        $err[0].FullyQualifiedErrorId | Should -Be 'InvalidProtocolTest,SmtpdModule.Commands.TestSmtpdRuleCommand'
        $err[0].TargetObject | Should -Be 'pregret'
        @($d).Count | Should -Be 1
        $d.Action | Should -Be 'Deny'
    }

    It 'completes -FailedTest with the test names' {
        $c = TabExpansion2 -inputScript 'Test-SmtpdRule -FailedTest p' -cursorColumn 28
        $c.CompletionMatches.CompletionText | Should -Be 'pregreet', 'pipelining'
    }

    It 'reports an unknown FAILED= name in the rules as RuleFileSyntax with its line and column' {
        $bad = New-RulesFile -Name bad -Line 'allow:ALL:ALL:ALL', 'deny:FAILED=pregret:ALL:ALL'
        $err = $null
        try { Get-SmtpdRule -Path $bad -ErrorAction Stop | Out-Null } catch { $err = $_ }
        $err.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
        $err.Exception.Message | Should -BeLike '*:2:13: error: unknown protocol test*'
    }
}
