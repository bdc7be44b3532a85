# Drains a spool for bench/forward/run.sh: what an administrator's scheduled task runs,
#   Import-Module <module>; Start-SmtpFwd -SpoolPath <spool> -SmartHost 127.0.0.1:<port>
#       -TlsMode None -MaxConnections <n> -Once
# in this fresh process, and prints one line:
#   summary <Forwarded> <Deferred> <Failed> <Bounced> <Errors> <Elapsed seconds> <t_start> <t_imported> <t_done>
# where the t_ are wall-clock nanoseconds since the Unix epoch (as `date +%s%N`) when this
# script began, after Import-Module, and after Start-SmtpFwd returned: run.sh subtracts them
# from its own clock around the process to split off the process start and module import.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $SmartHost,
    [Parameter(Mandatory)] [int] $MaxConnections
)
$ErrorActionPreference = 'Stop'
function Now { ([DateTime]::UtcNow.Ticks - 621355968000000000) * 100 }
$tStart = Now

Import-Module $ModulePath
$tImported = Now
$s = Start-SmtpFwd -SpoolPath $SpoolPath -SmartHost $SmartHost -TlsMode None -MaxConnections $MaxConnections -Once
$tDone = Now

$line = 'summary {0} {1} {2} {3} {4} {5} {6} {7} {8}' -f $s.Forwarded, $s.Deferred, $s.Failed, $s.Bounced,
    $s.Errors, $s.Elapsed.TotalSeconds.ToString('R', [cultureinfo]::InvariantCulture), $tStart, $tImported, $tDone
[Console]::Out.WriteLine($line)
