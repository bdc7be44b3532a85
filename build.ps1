#Requires -Version 7.0
<#
.SYNOPSIS
    The one entry point for building, documenting, packaging, testing, starting and benchmarking
    SmtpdModule.

.DESCRIPTION
    Build   compiles src/SmtpdModule and lays out an importable module in out/SmtpdModule/: the
            cmdlets at the root, the engine and its libraries in Dependencies/, the help (Docs).
    Docs    builds the help (MAML and about_*.help.txt) from docs/en-US with build/HelpBuilder.
    Package runs Build and packs out/SmtpdModule into out/package/SmtpdModule.<version>.nupkg, which
            Install-PSResource installs from a file repository.
    Test    runs Build and Package, installs the test prerequisites, runs the xunit engine tests
            and the Pester module tests, and ends with the line "Tests: N passed, N failed".
    Start   runs Build, then the proxy on 127.0.0.1:2525 and the forwarder into ./smtpd-data/drop.
    Bench  runs bench/SmtpdModule.Bench in Release; arguments after the task go to it.

    Run it through the pinned PowerShell: dotnet tool restore && dotnet pwsh ./build.ps1 -Task Test

.EXAMPLE
    dotnet pwsh ./build.ps1 -Task Bench --filter '*Parser*' --job short
#>
[CmdletBinding(PositionalBinding = $false)]
param(
    [Parameter(Position = 0)]
    [ValidateSet('Build', 'Docs', 'Package', 'Test', 'Start', 'Bench')]
    [string]$Task = 'Build',

    [string]$Configuration = 'Release',

    # Passed through to the benchmark program by -Task Bench. Use long options (--filter, --job):
    # a short one such as -d or -e would bind to this script's own common parameters.
    [Parameter(ValueFromRemainingArguments)]
    [string[]]$Rest
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'
# Native commands are checked through $LASTEXITCODE, where the script decides what a failure means.
$PSNativeCommandUseErrorActionPreference = $false
$ProgressPreference = 'SilentlyContinue'
$Plain = [Console]::IsOutputRedirected
if ($Plain) {
    # A log, not a terminal: no colour escapes.
    $PSStyle.OutputRendering = 'PlainText'
}

$env:DOTNET_NOLOGO = '1'
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_SKIP_FIRST_TIME_EXPERIENCE = '1'
if ($env:CI) {
    # MSBuild and compiler servers outlive the build; on CI nothing should be left running
    # when the run ends.
    $env:MSBUILDDISABLENODEREUSE = '1'
    $env:DOTNET_CLI_USE_MSBUILD_SERVER = '0'
}

$Root = $PSScriptRoot
$OutDir = Join-Path $Root 'out'
$ModuleDir = Join-Path $OutDir 'SmtpdModule'
$TestResultsDir = Join-Path $OutDir 'test-results'
$PackageDir = Join-Path $OutDir 'package'
$ModuleProject = Join-Path $Root 'src/SmtpdModule/SmtpdModule.csproj'
$EngineTestProject = Join-Path $Root 'tests/SmtpdModule.Engine.Tests'
$ModuleTestDir = Join-Path $Root 'tests/Module'
$ToolsProject = Join-Path $Root 'build/tools/tools.csproj'
$BenchProject = Join-Path $Root 'bench/SmtpdModule.Bench'
$PesterVersion = '5.7.1'

function Write-Step([string]$Message) {
    Write-Host "==> $Message" -ForegroundColor Cyan
}

function Assert-ExitCode([string]$What) {
    if ($LASTEXITCODE -ne 0) {
        throw "$What failed with exit code $LASTEXITCODE."
    }
}

# Functions here return objects, so everything meant for the reader goes to the host
# (Write-Host, native commands piped to Out-Host) and never into a function's output.

# --- Build -------------------------------------------------------------------------------

function Invoke-Build {
    Write-Step "dotnet build src/SmtpdModule -c $Configuration"
    dotnet build $ModuleProject -c $Configuration -nologo | Out-Host
    Assert-ExitCode 'dotnet build'

    # Ask MSBuild where the output went instead of guessing the target framework folder.
    $targetDir = dotnet msbuild $ModuleProject -nologo -getProperty:TargetDir "-p:Configuration=$Configuration"
    Assert-ExitCode 'dotnet msbuild -getProperty:TargetDir'
    $targetDir = "$targetDir".Trim()
    if (-not $targetDir -or -not (Test-Path -LiteralPath (Join-Path $targetDir 'SmtpdModule.dll'))) {
        throw "Build output not found: SmtpdModule.dll is not in '$targetDir'."
    }

    Write-Step "Lay out out/SmtpdModule"
    if (Test-Path -LiteralPath $ModuleDir) {
        Remove-Item -LiteralPath $ModuleDir -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $ModuleDir -Force

    Copy-Item -LiteralPath (Join-Path $Root 'SmtpdModule.psd1') -Destination $ModuleDir

    # The cmdlets at the root; the engine and every library it brings in Dependencies/, where
    # PowerShell's probing never finds them: src/SmtpdModule/Hosting/ModuleInitializer.cs loads them
    # from there (in a load context of their own on PowerShell 7). PowerShell itself provides
    # System.Management.Automation; a copy would only get in the way.
    $dependencyDir = New-Item -ItemType Directory -Path (Join-Path $ModuleDir 'Dependencies') -Force
    foreach ($file in Get-ChildItem -LiteralPath $targetDir -File) {
        if ($file.Extension -notin '.dll', '.pdb' -or $file.Name -like 'System.Management.Automation*') { continue }
        $destination = if ($file.BaseName -eq 'SmtpdModule') { $ModuleDir } else { $dependencyDir }
        Copy-Item -LiteralPath $file.FullName -Destination $destination
    }
    # Libraries built per OS (runtimes/<os>/X.dll, src/SmtpdModule/SmtpdModule.csproj); the loader
    # picks this OS's copy (src/SmtpdModule/Hosting/RuntimeSpecificAssemblies.cs).
    $runtimes = Join-Path $targetDir 'runtimes'
    if (Test-Path -LiteralPath $runtimes) {
        Copy-Item -LiteralPath $runtimes -Destination $dependencyDir -Recurse
    }

    $format = @(
        (Join-Path $Root 'src/SmtpdModule/SmtpdModule.Format.ps1xml')
        (Join-Path $Root 'SmtpdModule.Format.ps1xml')
    ) | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
    if ($format) {
        Copy-Item -LiteralPath $format -Destination $ModuleDir
    }

    # Compiled help (MAML) and about_ topics, made from docs/en-US by the Docs task; the markdown
    # sources stay behind.
    Invoke-Docs
    $helpDir = New-Item -ItemType Directory -Path (Join-Path $ModuleDir 'en-US') -Force
    Get-ChildItem -LiteralPath $HelpOutDir -File | Copy-Item -Destination $helpDir

    # Catches a manifest that names a file the layout does not have.
    $null = Test-ModuleManifest -Path (Join-Path $ModuleDir 'SmtpdModule.psd1')
    Write-Host "Module laid out in out/SmtpdModule ($((Get-ChildItem -LiteralPath $ModuleDir -Recurse -File).Count) files)."
}

# --- Docs --------------------------------------------------------------------------------

$HelpBuilderProject = Join-Path $Root 'build/HelpBuilder/HelpBuilder.csproj'
$HelpOutDir = Join-Path $OutDir 'help/en-US'

# Turns docs/en-US (platyPS markdown) into SmtpdModule.dll-Help.xml (MAML) and about_*.help.txt
# in out/help/en-US with build/HelpBuilder (platyPS is not available here). A page the builder
# cannot read stops the build: the builder prints each problem as file:line: message.
function Invoke-Docs {
    Write-Step 'build/HelpBuilder: docs/en-US -> out/help/en-US'
    # The builder is a build tool, not part of the module: always Release, whatever -Configuration says.
    $builderDir = Join-Path $OutDir 'tools/HelpBuilder'
    dotnet build $HelpBuilderProject -c Release -nologo -o $builderDir | Out-Host
    Assert-ExitCode 'dotnet build build/HelpBuilder'

    if (Test-Path -LiteralPath $HelpOutDir) {
        Remove-Item -LiteralPath $HelpOutDir -Recurse -Force
    }
    # The builder names each page relative to the current location: docs/en-US/<page>.md from the root.
    dotnet (Join-Path $builderDir 'HelpBuilder.dll') (Join-Path $Root 'docs/en-US') $HelpOutDir | Out-Host
    if ($LASTEXITCODE -ne 0) {
        throw "The help in docs/en-US could not be built (exit code $LASTEXITCODE): fix the pages at the file:line places listed above."
    }
}

# --- Package -----------------------------------------------------------------------------

# Packs the laid-out module (run Invoke-Build first) into out/package/SmtpdModule.<version>.nupkg,
# the package Install-PSResource installs from a file repository. Compress-PSResource (PSResourceGet
# 1.1+, shipped with PowerShell 7.6) writes the nuspec from the manifest, PrivateData.PSData
# included; it needs no repository and no network.
function New-ModulePackage {
    Write-Step 'Compress-PSResource out/SmtpdModule -> out/package'
    Import-Module Microsoft.PowerShell.PSResourceGet -MinimumVersion 1.1.0 -ErrorAction Stop
    if (Test-Path -LiteralPath $PackageDir) {
        Remove-Item -LiteralPath $PackageDir -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $PackageDir -Force
    Compress-PSResource -Path $ModuleDir -DestinationPath $PackageDir
    $package = @(Get-ChildItem -LiteralPath $PackageDir -Filter 'SmtpdModule.*.nupkg' -File)
    if ($package.Count -ne 1) {
        throw "Compress-PSResource left $($package.Count) SmtpdModule .nupkg files in out/package, not one."
    }
    Write-Host "Package: out/package/$($package[0].Name)"
}

function Invoke-Package {
    Invoke-Build
    New-ModulePackage
}

# --- Test --------------------------------------------------------------------------------

function Install-TestPrerequisites {
    if ($IsLinux -and (Get-Command apt-get -CommandType Application -ErrorAction SilentlyContinue)) {
        Write-Step 'tests/tools/install-test-deps.sh'
        bash (Join-Path $Root 'tests/tools/install-test-deps.sh') | Out-Host
        Assert-ExitCode 'tests/tools/install-test-deps.sh'
    }
    else {
        Write-Host 'Skipping the Debian test packages (no apt-get here): install knot, kdig, swaks and python3 by hand.'
    }
}

function Get-PesterManifest {
    Write-Step "dotnet restore build/tools (Pester $PesterVersion)"
    dotnet restore $ToolsProject -nologo | Out-Host
    Assert-ExitCode 'dotnet restore build/tools/tools.csproj'

    $locals = dotnet nuget locals global-packages --list
    Assert-ExitCode 'dotnet nuget locals global-packages --list'
    $packages = $locals | ForEach-Object { if ("$_" -match 'global-packages:\s*(.+?)\s*$') { $Matches[1] } } |
        Select-Object -First 1
    if (-not $packages) {
        throw "Could not read the NuGet global packages folder from: $locals"
    }
    # NuGet lays packages out as lower-case id / version.
    $manifest = Join-Path $packages "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path -LiteralPath $manifest)) {
        throw "Pester $PesterVersion was restored but '$manifest' does not exist."
    }
    $manifest
}

# The command line that starts this same PowerShell in a new process: pwsh itself, or
# `dotnet pwsh.dll` when running as a dotnet tool.
function Get-PwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'dotnet') {
        return @($process, (Join-Path $PSHOME 'pwsh.dll'))
    }
    @($process)
}

# Reads a TRX file's counters. Errors, timeouts and aborts count as failures.
function Read-TrxCounts([string]$Path) {
    [xml]$trx = Get-Content -LiteralPath $Path -Raw
    $ns = @{ t = 'http://microsoft.com/schemas/VisualStudio/TeamTest/2010' }
    $node = Select-Xml -Xml $trx -XPath '/t:TestRun/t:ResultSummary/t:Counters' -Namespace $ns |
        Select-Object -First 1
    if (-not $node) {
        throw "$Path has no ResultSummary/Counters element."
    }
    $c = $node.Node
    $get = { param([string]$Name) $value = $c.GetAttribute($Name); if ($value) { [int]$value } else { 0 } }
    [pscustomobject]@{
        Passed = & $get 'passed'
        Failed = (& $get 'failed') + (& $get 'error') + (& $get 'timeout') + (& $get 'aborted')
        Total  = & $get 'total'
    }
}

function Invoke-EngineTests {
    $dir = Join-Path $TestResultsDir 'engine'
    $trx = Join-Path $dir 'engine.trx'
    Write-Step "dotnet test tests/SmtpdModule.Engine.Tests -c $Configuration"
    dotnet test $EngineTestProject -c $Configuration --nologo --logger 'trx;LogFileName=engine.trx' --results-directory $dir |
        Out-Host
    $exitCode = $LASTEXITCODE

    if (-not (Test-Path -LiteralPath $trx)) {
        throw "dotnet test exited with code $exitCode and wrote no TRX file (build error or crash)."
    }
    $counts = Read-TrxCounts $trx
    if ($exitCode -ne 0 -and $counts.Failed -eq 0) {
        # Something failed that the counters do not show (a crashed test host, a failed
        # data collector): count it rather than report a clean run.
        Write-Host "dotnet test exited with code $exitCode although the TRX counts no failure." -ForegroundColor Red
        $counts.Failed = 1
    }
    $counts
}

function Invoke-ModuleTests {
    $files = @(Get-ChildItem -LiteralPath $ModuleTestDir -Filter '*.Tests.ps1' -Recurse -File -ErrorAction SilentlyContinue)
    if ($files.Count -eq 0) {
        Write-Host 'No Pester tests under tests/Module yet.'
        return [pscustomobject]@{ Passed = 0; Failed = 0; Total = 0 }
    }

    $pester = Get-PesterManifest
    $summary = Join-Path $TestResultsDir 'pester-summary.json'
    $runner = Join-Path $Root 'build/Invoke-PesterRun.ps1'
    $pwsh = @(Get-PwshCommand)
    $exe = $pwsh[0]
    $exeArgs = @($pwsh | Select-Object -Skip 1)

    # A child process, so that the module's assemblies are not left loaded in this one.
    Write-Step "Pester $PesterVersion on tests/Module ($($files.Count) files)"
    & $exe @exeArgs -NoProfile -NonInteractive -File $runner `
        -PesterPath $pester -TestPath $ModuleTestDir `
        -ResultPath (Join-Path $TestResultsDir 'pester.xml') -SummaryPath $summary `
        -RenderMode $(if ($Plain) { 'Plaintext' } else { 'Auto' }) | Out-Host
    $exitCode = $LASTEXITCODE

    if (-not (Test-Path -LiteralPath $summary)) {
        throw "The Pester run exited with code $exitCode and wrote no summary."
    }
    $result = Get-Content -LiteralPath $summary -Raw | ConvertFrom-Json
    [pscustomobject]@{ Passed = [int]$result.passed; Failed = [int]$result.failed; Total = [int]$result.total }
}

function Invoke-FuzzTests {
    # fuzz/run.sh: a short AFL++ run per target (SMTPD_FUZZ_SECONDS, default 60), each target one
    # test. Only a target that ran counts as passed; a Linux host without afl-fuzz fails them all.
    if (-not $IsLinux) {
        Write-Host 'Skipping the fuzz suite: AFL++ runs on Linux only (fuzz/README.md).'
        return [pscustomobject]@{ Passed = 0; Failed = 0; Total = 0 }
    }
    $seconds = if ($env:SMTPD_FUZZ_SECONDS) { $env:SMTPD_FUZZ_SECONDS } else { '60' }
    Write-Step "fuzz/run.sh all $seconds"
    bash (Join-Path $Root 'fuzz/run.sh') all $seconds 2>&1 | ForEach-Object { "$_" } |
        Tee-Object -Variable output | Out-Host
    $exitCode = $LASTEXITCODE
    $results = @($output | Where-Object { $_ -match '^fuzz: \S+ (passed|failed)' } | ForEach-Object { $Matches[1] })
    $counts = [pscustomobject]@{
        Passed = @($results | Where-Object { $_ -eq 'passed' }).Count
        Failed = @($results | Where-Object { $_ -eq 'failed' }).Count
        Total  = $results.Count
    }
    if ($exitCode -ne 0 -and $counts.Failed -eq 0) { $counts.Failed = 1; $counts.Total++ }
    $counts
}

function Invoke-Test {
    if (Test-Path -LiteralPath $TestResultsDir) {
        Remove-Item -LiteralPath $TestResultsDir -Recurse -Force
    }
    $null = New-Item -ItemType Directory -Path $TestResultsDir -Force

    $passed = 0
    $failed = 0
    $problems = [Collections.Generic.List[string]]::new()
    $lines = [Collections.Generic.List[string]]::new()

    # Each step runs even when an earlier one failed, so one run reports everything it can.
    # A step that could not run counts as one failed test: a crash never reads "0 failed".
    $moduleBuilt = $false
    try { Invoke-Build; $moduleBuilt = $true }
    catch { $problems.Add("Build: $_"); $failed++ }

    # tests/Module/Packaging.Tests.ps1 installs this package.
    if ($moduleBuilt) {
        try { New-ModulePackage }
        catch { $problems.Add("Package: $_"); $failed++ }
    }

    try { Install-TestPrerequisites }
    catch { $problems.Add("Test prerequisites: $_"); $failed++ }

    try {
        $engine = Invoke-EngineTests
        $passed += $engine.Passed
        $failed += $engine.Failed
        $lines.Add("  engine (xunit)   passed $($engine.Passed), failed $($engine.Failed), total $($engine.Total)")
    }
    catch {
        $problems.Add("Engine tests (xunit) did not run: $_")
        $failed++
    }

    if ($moduleBuilt) {
        try {
            $module = Invoke-ModuleTests
            $passed += $module.Passed
            $failed += $module.Failed
            $lines.Add("  module (Pester)  passed $($module.Passed), failed $($module.Failed), total $($module.Total)")
        }
        catch {
            $problems.Add("Module tests (Pester) did not run: $_")
            $failed++
        }
    }
    else {
        $problems.Add('Module tests (Pester) did not run: the module did not build.')
        $failed++
    }

    try {
        $fuzz = Invoke-FuzzTests
        $passed += $fuzz.Passed
        $failed += $fuzz.Failed
        $lines.Add("  fuzz (AFL++)     passed $($fuzz.Passed), failed $($fuzz.Failed), total $($fuzz.Total)")
    }
    catch {
        $problems.Add("Fuzz suite did not run: $_")
        $failed++
    }

    Write-Host ''
    $written = @('engine/engine.trx', 'pester.xml') | Where-Object { Test-Path -LiteralPath (Join-Path $TestResultsDir $_) }
    if ($written) { Write-Host "Results in out/test-results: $($written -join ', ')" }
    foreach ($line in $lines) { Write-Host $line }
    foreach ($problem in $problems) { Write-Host "  FAILED: $problem" -ForegroundColor Red }
    [pscustomobject]@{ Passed = $passed; Failed = $failed }
}

# --- Start, Bench --------------------------------------------------------------------------

function Invoke-Start {
    Invoke-Build
    # The embedded default: loopback only, the shipped example rules (mail for example.test from
    # anywhere, anything from this host, no relaying for strangers), everything else under
    # ./smtpd-data in the current directory. build/Start-Default.ps1 serves it and stops it
    # gracefully on Ctrl+C, SIGTERM, SIGINT, or when the dotnet host that started it goes away.
    & (Join-Path $Root 'build/Start-Default.ps1') -ModulePath (Join-Path $ModuleDir 'SmtpdModule.psd1') `
        -RulesPath (Join-Path $Root 'examples/smtpd_check_rules') `
        -DataPath (Join-Path (Get-Location).ProviderPath 'smtpd-data')
}

function Invoke-Bench {
    if (-not (Get-ChildItem -LiteralPath $BenchProject -Filter '*.csproj' -File -ErrorAction SilentlyContinue)) {
        throw 'There is no benchmark project yet: bench/SmtpdModule.Bench/SmtpdModule.Bench.csproj does not exist.'
    }
    Write-Step 'dotnet run -c Release --project bench/SmtpdModule.Bench'
    # Benchmarks are only meaningful optimised, whatever -Configuration says.
    # Through ArgumentList, not native-command splatting: PowerShell on Unix would expand a
    # '--filter *' against the files of the current directory.
    $start = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    foreach ($a in @('run', '-c', 'Release', '--project', $BenchProject, '--') + @($Rest | Where-Object { $_ })) {
        $start.ArgumentList.Add($a)
    }
    $start.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($start)
    $process.WaitForExit()
    $global:LASTEXITCODE = $process.ExitCode
    Assert-ExitCode 'dotnet run bench/SmtpdModule.Bench'
}

# --- Main ----------------------------------------------------------------------------------

if ($Rest -and $Task -ne 'Bench') {
    throw "Unexpected arguments for -Task ${Task}: $($Rest -join ' ')"
}

Push-Location -LiteralPath $Root
try {
    switch ($Task) {
        'Build' { Invoke-Build }
        'Docs' { Invoke-Docs }
        'Package' { Invoke-Package }
        'Start' { Invoke-Start }
        'Bench' { Invoke-Bench }
        'Test' {
            try {
                # Only the last object is the summary; anything before it would be stray output.
                $summary = @(Invoke-Test)[-1]
            }
            catch {
                # Invoke-Test guards each step; this is for a fault in the script itself.
                Write-Host "  FAILED: build.ps1 -Task Test: $_" -ForegroundColor Red
                $summary = [pscustomobject]@{ Passed = 0; Failed = 1 }
            }
            # The last line of the output, read by people and by CI.
            Write-Host "Tests: $($summary.Passed) passed, $($summary.Failed) failed"
            exit ([int]($summary.Failed -gt 0))
        }
    }
}
finally {
    Pop-Location
}
