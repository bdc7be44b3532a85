<#
.SYNOPSIS
    The openspf RFC 7208 suite for Pester (tests/Module/SpfSuite.Tests.ps1): its cases, and a real
    DNS server process serving one scenario's data. Dot-source it.

.DESCRIPTION
    Get-SpfSuiteScenario reads the suite (tests/fixtures/spf/rfc7208-tests.yml, or the copy
    SMTPD_SPF_SUITE names) through spf_suite.py and returns one hashtable per scenario
    (Scenario, Description, Cases), each case a hashtable (Id, Helo, ClientAddress, MailFrom,
    Results, Explanation), ready for -ForEach.

    Start-SpfSuiteDns serves one scenario on 127.0.0.1: knotd (via tests/tools/Start-TestDns.ps1)
    with the scenario's data as its root zone, behind spf_relay.py, which swallows the questions the
    suite says never get an answer and answers a CNAME loop SERVFAIL. Its EndPoint is the relay's.
    What each name answers, and why: spf_suite.py.
#>

Set-StrictMode -Version 3.0

# A python3 that can import yaml: the one on PATH, else the system's (a PATH python from pyenv or a
# venv does not see Debian's python3-yaml). Throws when there is none.
function Get-SpfSuitePython {
    $found = @((Get-Command -Name python3 -CommandType Application -All -ErrorAction SilentlyContinue).Source) + '/usr/bin/python3' |
        Where-Object { (Test-Path -LiteralPath $_) -and $(& $_ -c 'import yaml' 2>$null; $LASTEXITCODE -eq 0) } |
        Select-Object -First 1
    if (-not $found) { throw 'python3 with PyYAML is needed for the RFC 7208 suite: run tests/tools/install-test-deps.sh (python3-yaml).' }
    $found
}

# The suite kept in tests/fixtures/spf, or the copy SMTPD_SPF_SUITE names (as the xunit run).
function Get-SpfSuitePath {
    if ($env:SMTPD_SPF_SUITE) {
        if (Test-Path -LiteralPath $env:SMTPD_SPF_SUITE -PathType Leaf) { return (Resolve-Path -LiteralPath $env:SMTPD_SPF_SUITE).ProviderPath }
        throw "SMTPD_SPF_SUITE is set to '$($env:SMTPD_SPF_SUITE)', which does not exist."
    }
    $kept = Join-Path $PSScriptRoot '../../fixtures/spf/rfc7208-tests.yml'
    if (Test-Path -LiteralPath $kept -PathType Leaf) { return (Resolve-Path -LiteralPath $kept).ProviderPath }
    throw "$kept is missing; set SMTPD_SPF_SUITE to the suite's path."
}

function Get-SpfSuiteScenario {
    param([string] $Suite = (Get-SpfSuitePath), [string] $Python = (Get-SpfSuitePython))
    $json = & $Python (Join-Path $PSScriptRoot 'spf_suite.py') cases $Suite
    if ($LASTEXITCODE -ne 0) { throw "spf_suite.py could not read the suite '$Suite' (exit $LASTEXITCODE)." }
    # Hashtables, not objects: -ForEach turns their keys into the variables a test uses.
    foreach ($scenario in ($json -join "`n" | ConvertFrom-Json)) {
        @{
            Scenario    = [int]$scenario.Scenario
            Description = $scenario.Description
            Cases       = @(foreach ($case in $scenario.Cases) {
                    @{
                        Id            = $case.Id
                        Helo          = $case.Helo
                        ClientAddress = $case.ClientAddress
                        MailFrom      = $case.MailFrom
                        Results       = @($case.Results)
                        Explanation   = $case.Explanation
                    }
                })
        }
    }
}

# Scenario $Scenario of $Suite on 127.0.0.1: writes its zone into $Directory, starts knotd and the
# relay. Returns EndPoint (the relay's, for -DnsServer), Knot (Start-TestDns.ps1's object), Relay
# (the process), RelayLog (one line per question: name, type, decision) and Stop(), for AfterAll.
function Start-SpfSuiteDns {
    param([Parameter(Mandatory)] [int] $Scenario, [Parameter(Mandatory)] [string] $Directory,
          [string] $Suite = (Get-SpfSuitePath), [string] $Python = (Get-SpfSuitePython))
    $null = New-Item -ItemType Directory -Path $Directory -Force
    & $Python (Join-Path $PSScriptRoot 'spf_suite.py') zone $Suite $Scenario (Join-Path $Directory '.zone')
    if ($LASTEXITCODE -ne 0) { throw "spf_suite.py could not write scenario $Scenario of '$Suite' as a zone (exit $LASTEXITCODE)." }
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'knot.conf.in') -Destination $Directory

    $knot = & (Join-Path $PSScriptRoot '../Start-TestDns.ps1') -FixturePath $Directory
    $log = Join-Path $Directory 'relay.log'
    try {
        $start = [System.Diagnostics.ProcessStartInfo]::new($Python)
        foreach ($a in (Join-Path $PSScriptRoot 'spf_relay.py'), '--upstream', $knot.Port, '--suite', $Suite,
                '--scenario', $Scenario, '--log', $log) { $start.ArgumentList.Add([string]$a) }
        $start.UseShellExecute = $false
        $start.RedirectStandardInput = $true    # closing it ends the relay
        $start.RedirectStandardOutput = $true
        $start.RedirectStandardError = $true
        $relay = [System.Diagnostics.Process]::Start($start)
        $line = $relay.StandardOutput.ReadLineAsync()
        if (-not $line.Wait([TimeSpan]::FromSeconds(20)) -or -not $line.Result) {
            if (-not $relay.HasExited) { $relay.Kill() }
            throw "spf_relay.py did not start: $($relay.StandardError.ReadToEnd())"
        }
    }
    catch {
        $knot.Stop()
        throw
    }
    $server = [pscustomobject]@{
        PSTypeName = 'SmtpdModule.Tests.SpfSuiteDns'
        EndPoint   = '127.0.0.1:' + ($line.Result | ConvertFrom-Json).port
        Knot       = $knot
        Relay      = $relay
        RelayLog   = $log
        # Read while it runs, so that a chatty stderr never fills its pipe and stalls the relay.
        RelayError = $relay.StandardError.ReadToEndAsync()
    }
    $server | Add-Member -MemberType ScriptMethod -Name Stop -Value {
        $p = $this.Relay
        if (-not $p.HasExited) {
            try { $p.StandardInput.Close() } catch { }
            if (-not $p.WaitForExit(5000)) { $p.Kill() }
        }
        $this.Knot.Stop()
    }
    $server
}
