# The relay under test for bench/e2e/run.sh: the proxy AND the forwarder in one pwsh, as an
# administrator runs them on one host, sharing one spool:
#   - Start-SmtpdProxy on 127.0.0.1:<Port> with the given rules, the options of bench/smtp/proxy.ps1
#     (-DnsServer 127.0.0.1:9, where nothing answers, with -NoReverseLookup, and session and rate
#     limits far above the load);
#   - Start-SmtpFwd (the daemon, not -Once) from the same spool to the smart host (smtp-sink).
# Prints "ready <port> <pid>", then answers every line "status" on stdin with
#   status <accepted> <refused> <forwarded> <deferred> <failed> <bounced> <errors>
# (the proxy's and the forwarder's counters since start), and on end of input stops both and
# prints "stopped" and the same counters.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $SmartHost,
    [Parameter(Mandatory)] [int] $MaxConnections
)
$ErrorActionPreference = 'Stop'

function Get-Counters {
    @($proxy.Accepted, $proxy.Refused, $fwd.Forwarded, $fwd.Deferred, $fwd.Failed, $fwd.Bounced,
        $fwd.Counters.Errors) -join ' '
}

Import-Module $ModulePath
$proxy = Start-SmtpdProxy -Listen "127.0.0.1:$Port" -RulesPath $RulesPath -SpoolPath $SpoolPath `
    -DnsServer 127.0.0.1:9 -NoReverseLookup -MaxSessions 2000 -MaxSessionsPerClient 2000 `
    -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000
$fwd = $null
try {
    # The proxy has made the spool; the forwarder needs it to exist.
    $fwd = Start-SmtpFwd -SpoolPath $SpoolPath -SmartHost $SmartHost -TlsMode None -MaxConnections $MaxConnections
    [Console]::Out.WriteLine("ready $($proxy.LocalEndPoints[0].Port) $PID")
    [Console]::Out.Flush()
    while ($null -ne ($line = [Console]::In.ReadLine())) {
        if ($line -ne 'status') { continue }
        [Console]::Out.WriteLine("status $(Get-Counters)")
        [Console]::Out.Flush()
    }
}
finally {
    $null = Stop-SmtpdProxy -InputObject $proxy -Confirm:$false
    if ($fwd) { $null = Stop-SmtpFwd -InputObject $fwd -Confirm:$false }
}
[Console]::Out.WriteLine("stopped $(Get-Counters)")
