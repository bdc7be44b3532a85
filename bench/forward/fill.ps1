# Fills a fresh spool for bench/forward/run.sh through the real proxy: starts the loopback
# NXDOMAIN DNS server of the tests (tests/tools/Start-TestDns.ps1 with
# tests/fixtures/dns-nxdomain), then Start-SmtpdProxy on 127.0.0.1 port 0 with the given rules,
# -NoReverseLookup and -DnsServer pointing at that DNS server, exactly as an administrator would.
# Prints "ready <port> <pwsh pid> <knotd pid>" on stdout, then waits for a line (or end of input)
# on stdin, stops the proxy gracefully, prints "stopped <accepted> <refused> <sessions>", and
# stops the DNS server.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $DnsTool,
    [Parameter(Mandatory)] [string] $DnsFixture
)
$ErrorActionPreference = 'Stop'

$dns = & $DnsTool -FixturePath $DnsFixture
try {
    Import-Module $ModulePath
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -RulesPath $RulesPath -SpoolPath $SpoolPath `
        -DnsServer $dns.EndPoint -NoReverseLookup -MaxSessions 2000 -MaxSessionsPerClient 2000 `
        -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000
    $port = $proxy.LocalEndPoints[0].Port
    [Console]::Out.WriteLine("ready $port $PID $($dns.Process.Id)")
    [Console]::Out.Flush()
    $null = [Console]::In.ReadLine()
    Stop-SmtpdProxy -InputObject $proxy -Confirm:$false
    [Console]::Out.WriteLine("stopped $($proxy.Accepted) $($proxy.Refused) $($proxy.Sessions)")
}
finally {
    $dns.Stop()
}
