#Requires -Version 5.1
# Test-SmtpdSpf: binding, output, errors, against the test knotd on the loopback (its SPF records:
# tests/fixtures/dns/README.md), so no test asks this machine's own resolver. The evaluator itself is
# tested by the RFC 7208 suite, in the xunit tests (tests/SmtpdModule.Engine.Tests/Spf) and through this
# cmdlet in SpfSuite.Tests.ps1.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"
    $server = $dns.EndPoint
}

AfterAll {
    if ($dns) { $dns.Stop() }
}

Describe 'Test-SmtpdSpf' {
    It 'passes an authorised client and names the deciding mechanism' {
        $r = Test-SmtpdSpf -ClientAddress 192.0.2.10 -Helo mail.example.test -From alice@example.test -DnsServer $server
        $r.PSObject.TypeNames[0] | Should -Be 'SmtpdModule.Engine.Spf.SpfCheckResult'
        $r.Result | Should -Be 'Pass'
        $r.Identity | Should -Be 'MailFrom'
        $r.Domain | Should -Be 'example.test'
        $r.Mechanism | Should -Be 'a:mail.example.test'
        $r.Lookups | Should -BeGreaterThan 1
    }

    It 'fails a forged sender, and takes the address in angle brackets' {
        $r = Test-SmtpdSpf 192.0.2.99 -Helo mail.example.test -From '<alice@example.test>' -DnsServer $server
        $r.Result | Should -Be 'Fail'
        $r.Mechanism | Should -Be '-all'
    }

    It 'checks the null sender as postmaster at the HELO name' {
        $r = Test-SmtpdSpf 192.0.2.99 -Helo mail.example.test -From '<>' -DnsServer $server
        $r.Result | Should -Be 'SoftFail'
        $r.Identity | Should -Be 'MailFrom'
        $r.Sender | Should -Be 'postmaster@mail.example.test'
    }

    It 'checks the HELO identity without -From' {
        $r = Test-SmtpdSpf 192.0.2.10 -Helo mail.example.test -DnsServer $server
        $r.Identity | Should -Be 'Helo'
        $r.Result | Should -Be 'Pass'
    }

    It 'says None for a domain that does not exist' {
        (Test-SmtpdSpf 192.0.2.10 -Helo mail.example.test -From a@nosuch.example.test -DnsServer $server).Result | Should -Be 'None'
    }

    It 'says TempError when the DNS server gives no answer' {
        # REFUSED for a name outside the served zones: the check cannot tell.
        $r = Test-SmtpdSpf 192.0.2.10 -Helo mail.example.test -From a@elsewhere.invalid.test2 -DnsServer $server -DnsTimeout 00:00:01
        $r.Result | Should -Be 'TempError'
        $r.Problem | Should -Not -BeNullOrEmpty
    }

    It 'reports a bad client address and goes on with the next record' {
        $rows = @(
            [pscustomobject]@{ ClientAddress = 'not-an-ip'; Helo = 'mail.example.test'; From = 'a@example.test' }
            [pscustomobject]@{ ClientAddress = '192.0.2.25'; Helo = 'mail.example.test'; From = 'a@example.test' }
        )
        $r = @($rows | Test-SmtpdSpf -DnsServer $server -ErrorVariable err -ErrorAction SilentlyContinue)
        $r | Should -HaveCount 1
        $r[0].Result | Should -Be 'Pass'
        $r[0].Mechanism | Should -Be 'mx'
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidClientAddress,*'
        $err[0].TargetObject | Should -Be 'not-an-ip'
    }

    It 'ends with InvalidDnsTimeout for a timeout out of range' {
        { Test-SmtpdSpf 192.0.2.10 -Helo mail.example.test -DnsServer $server -DnsTimeout 0 -ErrorAction Stop } |
            Should -Throw -ErrorId 'InvalidDnsTimeout,*'
    }
}
