# Runs one proxy under test for the benchmarks that compare rules answered by a loopback DNS
# server (bench/dnsbl, bench/spf; started by start_rules_proxy in bench/lib.sh): Start-SmtpdProxy
# from the built module on a port the kernel picks, asking the benchmark's DNS server, SPF checked
# as the default -SpfCheck Auto decides (when a rule tests SPF=). Once every DNSBL zone the rules
# name has passed its health probe (a zone that failed would match nothing and the run would
# measure nothing; rules without RBL. have none), prints one JSON line {port, pid, zones} and then
# serves until its standard input closes (run.sh holds it open), so the proxy also stops when
# run.sh dies.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $DnsServer,
    [int] $HealthTimeoutSeconds = 30
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

$proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $RulesPath -SpoolPath $SpoolPath -DnsServer $DnsServer `
    -NoReverseLookup -MaxSessions 2000 -MaxSessionsPerClient 2000 `
    -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000
try {
    $deadline = [DateTime]::UtcNow.AddSeconds($HealthTimeoutSeconds)
    # Polled: the probe runs when the rules load; "Unknown" until it has answered.
    while (@($proxy.DnsblZones | Where-Object { "$($_.Status)" -ne 'Healthy' }).Count -gt 0) {
        if ([DateTime]::UtcNow -gt $deadline) {
            throw "DNSBL zones not healthy within $HealthTimeoutSeconds s: " +
                (($proxy.DnsblZones | ForEach-Object { "$($_.Zone)=$($_.Status) $($_.Detail)" }) -join '; ')
        }
        Start-Sleep -Milliseconds 50
    }
    [Console]::Out.WriteLine((ConvertTo-Json -Compress @{
        port  = $proxy.LocalEndPoints[0].Port
        pid   = $PID
        zones = @($proxy.DnsblZones | ForEach-Object { "$($_.Zone)=$($_.Status)" })
    }))
    [Console]::Out.Flush()
    while ($null -ne [Console]::In.ReadLine()) { }   # until run.sh closes our standard input
}
finally {
    $proxy | Stop-SmtpdProxy -TimeoutSeconds 5
}
