#Requires -Version 5.1
# Test-SmtpdDnsbl: binding, output, errors, against the test knotd on the loopback (its lists:
# tests/fixtures/dns/README.md), so no test asks this machine's own resolver.

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1"
    $server = $dns.EndPoint
}

AfterAll {
    if ($dns) { $dns.Stop() }
}

Describe 'Test-SmtpdDnsbl' {
    It 'writes one result per zone, in the order given, with the answers of the test points' {
        $r = @(Test-SmtpdDnsbl -Zone good.test, all.test, err.test, example.test -DnsServer $server)
        $r | Should -HaveCount 4
        $r[0].PSObject.TypeNames[0] | Should -Be 'SmtpdModule.Engine.Lookup.DnsblProbeResult'
        @($r | ForEach-Object { "$($_.Zone) $($_.Healthy) $($_.Status)" }) | Should -Be @(
            'good.test True Healthy'
            'all.test False ListsEverything'
            'err.test False ErrorAnswers'
            'example.test False NotListing'
        )
        $r[0].TestPoint | Should -Be '127.0.0.2'
        $r[0].NegativeTestPoint | Should -Be 'not listed'
        $r[0].IPv6 | Should -BeFalse
        $r[1].Detail | Should -Be 'lists 127.0.0.1'
        $r[2].TestPoint | Should -Be '127.255.255.254'
    }

    It 'takes zones from the pipeline, by value and by the property Zone' {
        @('good.test' | Test-SmtpdDnsbl -DnsServer $server).Zone | Should -Be 'good.test'
        @([pscustomobject]@{ Zone = 'all.test.' } | Test-SmtpdDnsbl -DnsServer $server).Zone | Should -Be 'all.test'
    }

    It 'answers one Boolean with -Quiet' {
        Test-SmtpdDnsbl good.test -DnsServer $server -Quiet | Should -BeExactly $true
        Test-SmtpdDnsbl good.test, all.test -DnsServer $server -Quiet | Should -BeExactly $false
    }

    It 'reports a list that cannot be asked as Timeout' {
        # knotd answers REFUSED outside its zones.
        $r = Test-SmtpdDnsbl notserved.test -DnsServer $server
        $r.Status | Should -Be 'Timeout'
        $r.Healthy | Should -BeFalse
        $r.TestPoint | Should -BeLike 'failed: *'
    }

    It 'writes InvalidDnsblZone for a name that is no zone and goes on with the others' {
        $r = Test-SmtpdDnsbl 'good.test=127.0.0.2', good.test -DnsServer $server -ErrorVariable err -ErrorAction SilentlyContinue
        @($r).Zone | Should -Be 'good.test'
        $err | Should -HaveCount 1
        $err[0].FullyQualifiedErrorId | Should -BeLike 'InvalidDnsblZone,*'
        $err[0].TargetObject | Should -Be 'good.test=127.0.0.2'
    }

    It 'ends with InvalidDnsServer for a -DnsServer that is not one' {
        { Test-SmtpdDnsbl good.test -DnsServer 'not-an-address' -ErrorAction Stop } | Should -Throw -ErrorId 'InvalidDnsServer*'
    }
}
