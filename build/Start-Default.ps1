#Requires -Version 7.0
<#
.SYNOPSIS
    Serves the embedded default in the foreground: what `build.ps1 -Task Start` runs once the
    module is built. The proxy (Start-SmtpdProxy -Wait) with the example rules and the
    forwarder into a pickup folder beside it, everything under -DataPath.

.DESCRIPTION
    Stops gracefully on Ctrl+C, SIGTERM and SIGINT (the proxy's -Wait handles them), and when
    the process that started it through `dotnet pwsh` goes away: the dotnet CLI ends at once on
    SIGTERM without passing it on, which would leave this process serving on its own. Then it
    stops the proxy through its control channel, as Stop-SmtpdProxy -SpoolPath would from
    another console. Either way the forwarder is stopped after the proxy.

    A SIGINT sent to the dotnet process alone is ignored by the dotnet CLI, which expects a
    terminal's Ctrl+C to reach the whole process group (as it does): send SIGTERM, or SIGINT to
    the group (kill -INT -- -<pgid>).
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $DataPath,
    [string] $Listen = '127.0.0.1:2525',
    [string[]] $DnsServer
)

$ErrorActionPreference = 'Stop'
$spool = Join-Path $DataPath 'spool'
$drop = Join-Path $DataPath 'drop'
$log = Join-Path $DataPath 'log/smtpd.jsonl'
$null = New-Item -ItemType Directory -Path $DataPath, $drop -Force
Import-Module $ModulePath -Force
Write-Host "smtpd on $Listen, rules $RulesPath"
Write-Host "spool $spool, log $log"
Write-Host "forwarder: spool -> pickup folder $drop (one .eml per message)"
Write-Host "serving in process $PID"

# The watch for a wrapper that went away: only when started by a dotnet host (the tool shim of
# `dotnet pwsh`), whose end means nobody is left to pass a stop on.
$watch = $null
$parent = (Get-Process -Id $PID).Parent
if ($parent -and $parent.ProcessName -eq 'dotnet') {
    $watch = [powershell]::Create()
    $null = $watch.AddScript({
        param($ModulePath, $Spool, $Parent)
        $Parent.WaitForExit()
        Import-Module $ModulePath
        Stop-SmtpdProxy -SpoolPath $Spool -Confirm:$false
    }).AddArgument($ModulePath).AddArgument($spool).AddArgument($parent)
    $null = $watch.BeginInvoke()
}

$proxyArguments = @{
    Listen = $Listen; RulesPath = $RulesPath; SpoolPath = $spool; LogPath = $log; HostName = 'localhost'
}
if ($DnsServer) { $proxyArguments.DnsServer = $DnsServer }
$fwd = Start-SmtpFwd -SpoolPath $spool -PickupDirectory $drop -LogPath (Join-Path $DataPath 'log/smtpfwd.jsonl')
Write-Host 'Try: swaks --server 127.0.0.1:2525 --to you@example.test   (Ctrl+C stops)'
try {
    Start-SmtpdProxy @proxyArguments -Wait -Verbose | Out-Null
}
finally {
    if ($fwd) { $fwd | Stop-SmtpFwd -Confirm:$false -PassThru | Out-Null }
    Write-Host "forwarder stopped: forwarded $($fwd.Forwarded), deferred $($fwd.Deferred), failed $($fwd.Failed)"
    if ($watch) { $watch.Stop(); $watch.Dispose() }
}
