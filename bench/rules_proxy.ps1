# Runs one proxy under test for the benchmarks that compare rules answered by a loopback DNS
# server (bench/dnsbl, bench/spf, bench/checks; started by start_rules_proxy in
# bench/with_without.sh): Start-SmtpdProxy from the built module on a port the kernel picks, asking
# the benchmark's DNS server, SPF checked as the default -SpfCheck Auto decides (when a rule tests
# SPF= or a grey line is present). -ProxyOptions adds parameters of Start-SmtpdProxy as a JSON
# object (bench/checks: -RecipientListPath and the greylist's). Once every DNSBL zone the rules
# name has passed its health probe (a zone that failed would match nothing and the run would
# measure nothing; rules without RBL. have none), prints one JSON line {port, pid, zones} and then
# serves until its standard input closes (run.sh holds it open), so the proxy also stops when
# run.sh dies. A line "stats" on standard input prints one JSON line of what the proxy counted:
# its rule hits and its greylist entries by kind and state (the proof that the checks ran).
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $DnsServer,
    [string] $ProxyOptions = '{}',
    [int] $HealthTimeoutSeconds = 30
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$more = ConvertFrom-Json $ProxyOptions -AsHashtable

$proxy = Start-SmtpdProxy -Listen 127.0.0.1:0 -RulesPath $RulesPath -SpoolPath $SpoolPath -DnsServer $DnsServer `
    -NoReverseLookup -MaxSessions 2000 -MaxSessionsPerClient 2000 `
    -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000 @more
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
    while ($null -ne ($line = [Console]::In.ReadLine())) {   # until run.sh closes our standard input
        if ($line -ne 'stats') { continue }
        $grey = [ordered]@{}
        Get-SmtpdGreylistEntry -InputObject $proxy -MaxCount 100000 |
            Group-Object { "$($_.Kind)/$($_.State)" } | ForEach-Object { $grey[$_.Name] = $_.Count }
        [Console]::Out.WriteLine((ConvertTo-Json -Compress -Depth 4 @{
            ruleHits = @(Get-SmtpdRuleHit -InputObject $proxy | Where-Object Total | ForEach-Object {
                [ordered]@{ line = $_.Line; basis = "$($_.Basis)"; rule = $_.Rule; accepted = $_.Accepted
                            refused = $_.Refused; deferred = $_.Deferred; closed = $_.Closed } })
            greylist = $grey
        }))
        [Console]::Out.Flush()
    }
}
finally {
    $proxy | Stop-SmtpdProxy -TimeoutSeconds 5
}
