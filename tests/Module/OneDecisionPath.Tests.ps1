#Requires -Version 7.0
# One decision path, as a property: for thousands of generated transactions, what Test-SmtpdRule
# -EachStage says the proxy answers is what a live proxy answers on a real socket, stage by stage
# (greeting, EHLO, MAIL, each RCPT) and reply line by reply line.
#
# tests/fixtures/decision-path/generate.py draws, from one seed, the DNS facts (PTR records that do
# and do not confirm, block lists, NS and MX sets, zones nobody serves), rules files from the whole
# grammar, proxy options, and transactions. knotd serves the facts on the loopback; each rules file
# gets its own proxy on 127.0.0.1 and ::1, port 0; play.py plays every transaction from its own
# 127/8 client address and records each reply line; then the same transactions go through one
# Test-SmtpdRule pipeline per file. A failure prints the seed: SMTPD_DECISION_PATH_SEED=<seed>
# replays the very same run (SMTPD_DECISION_PATH_TRANSACTIONS changes its size).

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    . "$PSScriptRoot/TestHelpers.ps1"
    . "$PSScriptRoot/../fixtures/decision-path/Compare-DecisionPath.ps1"
    $python = Get-TestPython
    $fixture = (Resolve-Path -LiteralPath "$PSScriptRoot/../fixtures/decision-path").ProviderPath

    $seed = if ($env:SMTPD_DECISION_PATH_SEED) { [long]$env:SMTPD_DECISION_PATH_SEED } else { Get-Random -Minimum 1 -Maximum ([int]::MaxValue) }
    $size = if ($env:SMTPD_DECISION_PATH_TRANSACTIONS) { [int]$env:SMTPD_DECISION_PATH_TRANSACTIONS } else { 3200 }
    $run = Invoke-DecisionPathRun -Python $python -Fixture $fixture -Seed $seed -Transactions $size -Directory (Join-Path $TestDrive 'run')
}

AfterAll {
    if ($run) { $run.Stop() }
}

Describe 'Test-SmtpdRule and a live proxy answer alike' {
    It 'played enough transactions and commands, and met every kind of answer' {
        $run.ClientErrors | Should -BeNullOrEmpty -Because "every session ran to its end (seed $($run.Seed))"
        $run.TesterErrors | Should -BeNullOrEmpty -Because "Test-SmtpdRule took every transaction (seed $($run.Seed))"
        $run.Transactions | Should -BeGreaterOrEqual ([Math]::Min(3000, $size))
        $run.Commands | Should -BeGreaterThan ([Math]::Min(10000, 3 * $size))
        Write-Host "    decision path: $($run.Transactions) transactions, $($run.Commands) commands compared (seed $($run.Seed))"
        # A generator that stopped reaching an outcome would let this test pass on nothing.
        $missing = @($run.Coverage.GetEnumerator() | Where-Object { -not $_.Value } | ForEach-Object Key)
        $missing | Should -BeNullOrEmpty -Because "each outcome should occur at least once (seed $($run.Seed))"
    }

    It 'greets alike' {
        Format-Difference $run 'Connect' | Should -BeNullOrEmpty
    }

    # Every line: the greeting line and each extension the proxy announces (SIZE, PIPELINING, ...).
    It 'answers EHLO alike' {
        Format-Difference $run 'Helo' | Should -BeNullOrEmpty
    }

    It 'answers MAIL FROM alike' {
        Format-Difference $run 'Mail' | Should -BeNullOrEmpty
    }

    It 'answers each RCPT TO alike' {
        Format-Difference $run 'Rcpt' | Should -BeNullOrEmpty
    }

    It 'ends each session after the same command' {
        Format-Difference $run 'Length' | Should -BeNullOrEmpty
    }

    It 'answers a pipelined MAIL, its RCPTs and QUIT alike, line by line in order' {
        Format-Difference $run 'Pipelined' | Should -BeNullOrEmpty
    }

    # Sessions that meet the limits Test-SmtpdRule shares with the proxy's defaults: MAIL FROM with a
    # SIZE= above the message size (552 5.3.4, and 503 for the RCPTs after it) and a command line over
    # 2048 bytes (500 5.5.2, counted as an error). Kept apart so that a difference names its cause.
    It 'applies the proxy''s resource limits alike (declared SIZE, command line length)' {
        Format-Difference $run 'Limits' | Should -BeNullOrEmpty
    }
}
