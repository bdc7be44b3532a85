# A forwarder process that stays up between drains, as a running smtpfwdd (or Start-SmtpFwd as
# a service) does, for bench/forward/run.sh: the drains after the first run in a runtime that has
# compiled its code already, like Postfix's queue manager, which has been running all along.
# Reads one request per line on stdin, "<spool path><TAB><connections>", runs
#   Start-SmtpFwd -SpoolPath <spool> -SmartHost <host> -TlsMode None -MaxConnections <n> -Once
# and answers with one line:
#   summary <Forwarded> <Deferred> <Failed> <Bounced> <Errors> <Elapsed seconds>
# Ends at end of input.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SmartHost
)
$ErrorActionPreference = 'Stop'

Import-Module $ModulePath
[Console]::Out.WriteLine("ready $PID")
[Console]::Out.Flush()
while ($null -ne ($line = [Console]::In.ReadLine())) {
    $spool, $connections = $line -split "`t"
    $s = Start-SmtpFwd -SpoolPath $spool -SmartHost $SmartHost -TlsMode None -MaxConnections ([int] $connections) -Once
    $answer = 'summary {0} {1} {2} {3} {4} {5}' -f $s.Forwarded, $s.Deferred, $s.Failed, $s.Bounced, $s.Errors,
        $s.Elapsed.TotalSeconds.ToString('R', [cultureinfo]::InvariantCulture)
    [Console]::Out.WriteLine($answer)
    [Console]::Out.Flush()
}
