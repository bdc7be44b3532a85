#Requires -Version 5.1
# The conformance vectors (reference §8) through Test-SmtpdRule, one test per vector id.
#
# Vectors that state DNS facts are left to the engine tests, which can serve those exact facts;
# here every name lookup goes to the test knotd, so a vector without DNS facts never depends on
# this machine's resolver. More vector files (same format) can be run the same way by pointing
# SMTPD_EXTRA_VECTORS at them: one or more paths separated by the platform's path separator,
# each a .json file or a folder of them.
#
# Scoring:
#   ours.loadError, or an expected basis failure-*  -> the file is refused: RuleFileSyntax
#   quirk                                           -> the result (action, line, reply) differs
#   anything else                                   -> action, line and reply are exactly expected
#                                                      (and the basis: a rule, or no rule matched)

BeforeDiscovery {
    $files = @(Join-Path $PSScriptRoot '../fixtures/vectors/rule-vectors.json')
    if ($env:SMTPD_EXTRA_VECTORS) {
        foreach ($extra in $env:SMTPD_EXTRA_VECTORS.Split([System.IO.Path]::PathSeparator)) {
            if (-not $extra) { continue }
            if (Test-Path -LiteralPath $extra -PathType Container) {
                $files += @(Get-ChildItem -LiteralPath $extra -Filter '*.json' -File | Sort-Object Name | ForEach-Object FullName)
            }
            else {
                # A missing file is reported by the test below rather than silently ignored.
                $files += $extra
            }
        }
    }

    $vectorFiles = foreach ($file in $files) {
        $vectors = @()
        $problem = $null
        if (Test-Path -LiteralPath $file -PathType Leaf) {
            $json = [System.IO.File]::ReadAllText((Resolve-Path -LiteralPath $file).ProviderPath)
            $vectors = @(foreach ($v in @($json | ConvertFrom-Json)) {
                $hasDns = $false
                if ($null -ne $v.dns) { $hasDns = @($v.dns.PSObject.Properties).Count -gt 0 }
                if ($hasDns) { continue }
                $expect = $v.expect
                @{
                    Id            = [string]$v.id
                    Rules         = [string]$v.rules
                    Ip            = [string]$v.client.ip
                    Name          = $v.client.name
                    Ident         = $v.client.ident
                    Helo          = $v.client.helo
                    From          = [string]$v.from
                    To            = [string]$v.to
                    DenyOnFailure = [bool]($v.build -and $v.build.denyOnFailure)
                    LoadError     = [bool]($v.ours -and $v.ours.loadError)
                    Quirk         = $v.quirk
                    ExpectAction  = [string]$expect.action
                    ExpectLine    = $expect.line
                    ExpectReply   = $expect.reply
                    ExpectBasis   = [string]$expect.basis
                }
            })
        }
        else {
            $problem = "vector file '$file' does not exist"
        }
        @{ File = (Split-Path -Leaf $file); Path = $file; Vectors = $vectors; Problem = $problem }
    }
}

BeforeAll {
    Import-Module "$PSScriptRoot/../../out/SmtpdModule/SmtpdModule.psd1" -Force
    # A vector without DNS facts lives in a world where no name exists: an NXDOMAIN-only server.
    $dns = & "$PSScriptRoot/../tools/Start-TestDns.ps1" -FixturePath "$PSScriptRoot/../fixtures/dns-nxdomain"
    $server = $dns.EndPoint
    $vectorDir = Join-Path $TestDrive 'vectors'
    $null = New-Item -ItemType Directory -Path $vectorDir -Force

    # Runs one vector: the decision, or the terminating error when the rules file is refused.
    function Invoke-Vector {
        param([hashtable] $Vector)
        $path = Join-Path $vectorDir (($Vector.Id -replace '[^A-Za-z0-9_.-]', '_') + '.rules')
        # Byte for byte: CRs and a missing final newline are part of the vector.
        [System.IO.File]::WriteAllText($path, $Vector.Rules, (New-Object System.Text.UTF8Encoding $false))

        $arguments = @{
            Path          = $path
            ClientAddress = $Vector.Ip
            ClientName    = if ($null -eq $Vector.Name) { '' } else { [string]$Vector.Name }
            Helo          = [string]$Vector.Helo
            From          = $Vector.From
            To            = $Vector.To
            DnsServer     = $server
            WarningAction = 'SilentlyContinue'
            # The vectors score the rules, which the original handed routed addresses to; the
            # proxy's strict address check (553 before the rules) has tests of its own.
            AcceptRoutedAddresses = $true
        }
        if ($null -ne $Vector.Ident) { $arguments.Ident = [string]$Vector.Ident }
        if ($Vector.DenyOnFailure) { $arguments.DefaultAction = 'Deny' }

        $result = [pscustomobject]@{ Decision = $null; Error = $null; Path = $path }
        try { $result.Decision = Test-SmtpdRule @arguments }
        catch { $result.Error = $_ }
        $result
    }

    function Format-Outcome {
        param($Action, $Line, $Reply)
        "action=$Action line=$(if ($null -eq $Line) { 'null' } else { $Line }) reply=$(if ($null -eq $Reply) { 'null' } else { "'$Reply'" })"
    }
}

AfterAll {
    if ($dns) { $dns.Stop() }
}

Describe 'Rule vectors from <File>' -ForEach $vectorFiles {
    It 'has vectors to run' {
        $Problem | Should -BeNullOrEmpty
        $Vectors.Count | Should -BeGreaterThan 0
    }

    It '<Id>' -ForEach $Vectors {
        $vector = $_
        $r = Invoke-Vector -Vector $vector

        # Over-long and unterminated lines are accepted by design (no line-length limit): such a
        # vector evaluates and must differ from the original's failure default.
        $longLine = $ExpectBasis -eq 'failure-line-too-long'
        if ($LoadError -or ($ExpectBasis -like 'failure-*' -and -not $longLine)) {
            $r.Error | Should -Not -BeNullOrEmpty -Because 'the rules file should be refused at load time'
            $r.Error.FullyQualifiedErrorId | Should -BeLike 'RuleFileSyntax,*'
            $r.Error.CategoryInfo.Category | Should -Be 'ParserError'
            $r.Error.TargetObject | Should -BeExactly $r.Path
            return
        }

        if ($r.Error) { throw "the rules file was refused: $($r.Error.Exception.Message)" }
        $d = @($r.Decision)
        $d | Should -HaveCount 1

        $actual = Format-Outcome $d[0].Action.ToString().ToLowerInvariant() $d[0].LineNumber $d[0].Reply
        $expected = Format-Outcome $ExpectAction $ExpectLine $ExpectReply

        if ($Quirk -or $longLine) {
            $actual | Should -Not -BeExactly $expected -Because "the original's quirk is fixed ($Quirk)"
            return
        }

        $d[0].Action.ToString().ToLowerInvariant() | Should -BeExactly $ExpectAction -Because $expected
        $d[0].LineNumber | Should -Be $ExpectLine -Because $expected
        $d[0].Reply | Should -BeExactly $ExpectReply -Because $expected
        $basis = @{ 'rule' = 'Rule'; 'default-no-match' = 'DefaultNoMatch' }[$ExpectBasis]
        if ($basis) { "$($d[0].Basis)" | Should -BeExactly $basis -Because "the vector's basis is $ExpectBasis" }
    }
}
