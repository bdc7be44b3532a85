<#
.SYNOPSIS
    Sends SIGINT to child `pwsh -NonInteractive -File` processes many times and counts how each ended
    (exit code, whether the script went on after the interrupted command). A diagnostic, not a test.

.DESCRIPTION
    Each child is started as tests/Module/TestHelpers.ps1's Start-ChildPwsh starts it. With -Plain the
    child runs `Start-Sleep -Seconds 30 | Out-Null` then `'after the wait'` (no module): this measures
    PowerShell's own handling of Ctrl+C. Without -Plain it runs `Start-SmtpdProxy ... -Wait | Out-Null`
    then `'after the wait'`, as CleanStop.Tests.ps1 does, and also reports which stop the proxy logged.
    SIGINT comes 0 to 600 ms after the child is ready. Run it while the cores are busy (e.g. two
    `yes > /dev/null`) to see the rare outcomes. Start it from pwsh or a terminal: a child of a
    non-interactive shell's background job inherits SIGINT ignored.

.EXAMPLE
    pwsh -NoProfile -File tests/tools/Measure-SigintExit.ps1 -Count 50 -Plain
#>
[CmdletBinding()]
param(
    [int] $Count = 40,
    [switch] $Plain,
    [string] $Signal = 'INT',
    [string] $ModulePath = (Join-Path $PSScriptRoot '../../out/SmtpdModule/SmtpdModule.psd1')
)
$ErrorActionPreference = 'Stop'
function Quote([string] $Text) { "'" + $Text.Replace("'", "''") + "'" }
$kill = (Get-Command kill -CommandType Application | Select-Object -First 1).Source
$work = Join-Path ([IO.Path]::GetTempPath()) ("sigint-" + [Guid]::NewGuid().ToString('n'))
$null = New-Item -ItemType Directory $work
$dns = $null
if (-not $Plain) {
    $ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
    $dns = & (Join-Path $PSScriptRoot 'Start-TestDns.ps1') -FixturePath (Join-Path $PSScriptRoot '../fixtures/dns-nxdomain')
    $rules = Join-Path $work 'allow_all'
    [IO.File]::WriteAllText($rules, "allow:ALL:ALL:ALL`n")
}
$rand = [Random]::new()
$rows = [Collections.Generic.List[object]]::new()
$child = $null
try {
    for ($n = 1; $n -le $Count; $n++) {
        $dir = (New-Item -ItemType Directory (Join-Path $work "run-$n")).FullName
        $lines = @('$ErrorActionPreference = ''Stop''', 'if ($PSStyle) { $PSStyle.OutputRendering = ''PlainText'' }')
        # Start-Sleep once before 'ready': a SIGINT during its module's auto-loading is another outcome (an error).
        if ($Plain) { $lines += 'Start-Sleep -Milliseconds 1', "'ready'", 'Start-Sleep -Seconds 30 | Out-Null' }
        else {
            $lines += "Import-Module $(Quote $ModulePath)"
            $lines += "Start-SmtpdProxy -Listen 127.0.0.1:0 -DnsServer $(Quote $dns.EndPoint) -RulesPath $(Quote $rules) " +
                      "-SpoolPath $(Quote (Join-Path $dir 'spool')) -Wait | Out-Null"
        }
        $lines += "'after the wait'"
        $script = Join-Path $dir 'child.ps1'
        [IO.File]::WriteAllText($script, ($lines -join "`n"))
        $exe = [Environment]::ProcessPath
        $arguments = @()
        if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $arguments += '"' + (Join-Path $PSHOME 'pwsh.dll') + '"' }
        $arguments += '-NoProfile', '-NonInteractive', '-File', ('"' + $script + '"')
        $out = Join-Path $dir 'stdout.txt'; $err = Join-Path $dir 'stderr.txt'
        $child = Start-Process -FilePath $exe -ArgumentList $arguments -RedirectStandardOutput $out -RedirectStandardError $err -NoNewWindow -PassThru
        $ready = if ($Plain) { '^ready' } else { 'listening on 127\.0\.0\.1:\d+' }
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not $child.HasExited -and -not ((Get-Content -LiteralPath $out -Raw -ErrorAction SilentlyContinue) -match $ready)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "run $n never got ready" }
            Start-Sleep -Milliseconds 20
        }
        Start-Sleep -Milliseconds $rand.Next(0, 600)
        & $kill "-$Signal" $child.Id
        if (-not $child.WaitForExit(40000)) { $child.Kill(); throw "run $n did not end" }
        $text = Get-Content -LiteralPath $out -Raw -ErrorAction SilentlyContinue
        $rows.Add([pscustomobject]@{
            Exit  = $child.ExitCode
            After = [bool]($text -match 'after the wait')
            Stop  = [regex]::Match("$text", '- (\S+): stopping').Groups[1].Value
            Error = [bool](Get-Content -LiteralPath $err -Raw -ErrorAction SilentlyContinue)
        })
    }
}
finally {
    if ($child -and -not $child.HasExited) { $child.Kill() }
    if ($dns) { $dns.Stop() }
    Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue
}
$rows | Group-Object Exit, After, Stop, Error | Sort-Object Count -Descending |
    Select-Object Count, @{ n = 'Exit, After, Stop, Stderr'; e = { $_.Name } }
