#Requires -Version 5.1
# The openspf RFC 7208 suite (tests/fixtures/spf, or the copy SMTPD_SPF_SUITE names), every case,
# through Test-SmtpdSpf against a real DNS server process: per scenario, knotd serving the
# scenario's data as its root zone behind a relay that swallows the suite's TIMEOUT questions
# (tests/tools/spf-suite). The xunit run (tests/SmtpdModule.Engine.Tests/Spf/SpfSuiteTests.cs)
# checks the same cases against an in-process server; both read the suite the same way.

BeforeDiscovery {
    . "$PSScriptRoot/../tools/spf-suite/SpfSuite.ps1"
    $scenarios = @(Get-SpfSuiteScenario)
}

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/../tools/spf-suite/SpfSuite.ps1"
    $suite = Get-SpfSuitePath
    $python = Get-SpfSuitePython
    # A TIMEOUT question costs this twice (the cmdlet asks once more): short, yet far beyond what
    # knotd behind the relay takes on a busy machine.
    $dnsTimeout = [TimeSpan]::FromSeconds(2)
}

Describe 'RFC 7208 suite, scenario <Scenario>: <Description>' -ForEach $scenarios {
    BeforeAll {
        $dns = Start-SpfSuiteDns -Scenario $Scenario -Directory (Join-Path $TestDrive "scenario-$Scenario") -Suite $suite -Python $python
    }

    AfterAll {
        if ($dns) { $dns.Stop() }
    }

    # An empty mailfrom is the null sender (checked as postmaster@helo), as the suite's drivers do.
    It '<Id>' -ForEach $Cases {
        $r = Test-SmtpdSpf -ClientAddress $ClientAddress -Helo $Helo -From $MailFrom -DnsServer $dns.EndPoint -DnsTimeout $dnsTimeout
        $r | Should -Not -BeNullOrEmpty -Because 'Test-SmtpdSpf gives a result for every case'
        $questions = if (Test-Path -LiteralPath $dns.RelayLog) { (Get-Content -LiteralPath $dns.RelayLog) -join '; ' } else { '' }
        $r.Result.ToString() | Should -BeIn $Results -Because "$r (questions so far: $questions)"
        # Compared only for a fail, as the xunit run: DEFAULT means the evaluator's own (none).
        if ($null -ne $Explanation -and $r.Result.ToString() -eq 'Fail') {
            $expected = if ($Explanation -eq 'DEFAULT') { $null } else { $Explanation }
            $r.Explanation | Should -Be $expected
        }
    }
}
