<#
.SYNOPSIS
    Runs Pester on the module tests and writes a small JSON summary; started by build.ps1 -Task Test.

.DESCRIPTION
    build.ps1 runs this in a child process so that the module's assemblies are loaded there and
    not in the build process. Pester is imported by path from the NuGet global packages folder.
    The exit code only says whether the summary was written; the summary says how the tests went.
    No StrictMode or ErrorActionPreference here: they would leak into the tests' scopes.
#>
param(
    [Parameter(Mandatory)] [string]$PesterPath,
    [Parameter(Mandatory)] [string]$TestPath,
    [Parameter(Mandatory)] [string]$ResultPath,
    [Parameter(Mandatory)] [string]$SummaryPath,
    # Plaintext when the output ends up in a log rather than on a terminal.
    [ValidateSet('Auto', 'Ansi', 'ConsoleColor', 'Plaintext')] [string]$RenderMode = 'Auto'
)

# Counts the failed blocks (BeforeAll/AfterAll) in which no test failed: their failure is not
# in FailedCount already.
function Get-SilentBlockFailureCount($Run) {
    function Test-AnyTestFailed($Block) {
        foreach ($test in $Block.Tests) { if ($test.Result -eq 'Failed') { return $true } }
        foreach ($child in $Block.Blocks) { if (Test-AnyTestFailed $child) { return $true } }
        $false
    }
    @($Run.FailedBlocks | Where-Object { -not (Test-AnyTestFailed $_) }).Count
}

try {
    Import-Module -Name $PesterPath -Force -ErrorAction Stop

    $config = New-PesterConfiguration
    $config.Run.Path = $TestPath
    $config.Run.PassThru = $true
    $config.Run.Exit = $false
    $config.Output.Verbosity = 'Detailed'
    $config.Output.RenderMode = $RenderMode
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = $ResultPath

    $result = Invoke-Pester -Configuration $config -ErrorAction Stop

    # A file that did not load (FailedContainers) has no tests to count, and a failing AfterAll
    # leaves its tests passed: neither may read as a clean run.
    $failed = $result.FailedCount + $result.FailedContainersCount + (Get-SilentBlockFailureCount $result)
    if ($failed -eq 0 -and $result.Result -eq 'Failed') {
        $failed = 1
    }

    [ordered]@{
        passed  = $result.PassedCount
        failed  = $failed
        skipped = $result.SkippedCount
        total   = $result.TotalCount
        result  = "$($result.Result)"
    } | ConvertTo-Json | Set-Content -LiteralPath $SummaryPath -Encoding utf8 -ErrorAction Stop
    exit 0
}
catch {
    Write-Host "Pester run failed: $_" -ForegroundColor Red
    exit 1
}
