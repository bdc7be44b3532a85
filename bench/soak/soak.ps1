# The process under test for bench/soak/run.sh: the proxy AND the forwarder in one pwsh, as an
# administrator could run them, plus the sampler that reads this process's own counters.
#   - the loopback NXDOMAIN DNS server of the tests (tests/tools/Start-TestDns.ps1),
#   - Start-SmtpdProxy on 127.0.0.1 port 0 with the given rules, -NoReverseLookup, -DnsServer,
#   - Start-SmtpFwd (daemon, not -Once) from the same spool to the smart host (smtp-sink).
# Prints "ready <port> <pid>" on stdout, then one "sample ..." line whenever a line "sample" arrives
# on stdin (run.sh asks every 30 s, so that all the clocks are its own), and on end of input stops
# the proxy, waits (at most -DrainSeconds) until the spool is empty, stops the forwarder and prints
# "stopped <accepted> <refused> <sessions> <forwarded> <deferred> <failed> <errors> <backlog>".
#
# A sample line: sample <rss_kib> <threads> <fds> <gc_live_bytes> <gc_heap_bytes> <gc_committed_bytes>
#   <gen2_collections> <accepted> <refused> <forwarded> <deferred> <failed> <errors> <backlog>
# gc_live is GC.GetTotalMemory(true): a full blocking collection first, so it is what is really
# reachable (one collection per 30 s costs nothing measurable at these rates).
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $SmartHost,
    [Parameter(Mandatory)] [string] $DnsTool,
    [Parameter(Mandatory)] [string] $DnsFixture,
    [int] $MaxConnections = 4,
    [int] $DrainSeconds = 300
)
$ErrorActionPreference = 'Stop'

function Get-Backlog {
    # Messages in the spool in any state (ready, claimed, deferred, held, failed, corrupt).
    $n = 0
    foreach ($dir in 'ready', 'active', 'deferred', 'held', 'failed', 'corrupt') {
        $p = [IO.Path]::Combine($SpoolPath, $dir)
        if ([IO.Directory]::Exists($p)) {
            $n += @([IO.Directory]::EnumerateFiles($p, '*.msg', [IO.SearchOption]::AllDirectories)).Count
        }
    }
    $n
}

function Get-StatusValue([string] $name) {
    foreach ($line in [IO.File]::ReadLines('/proc/self/status')) {
        if ($line.StartsWith($name + ':')) { return ($line.Substring($name.Length + 1).Trim() -split '\s+')[0] }
    }
    0
}

$dns = & $DnsTool -FixturePath $DnsFixture
$proxy = $null; $fwd = $null
try {
    Import-Module $ModulePath
    $proxy = Start-SmtpdProxy -Listen '127.0.0.1:0' -RulesPath $RulesPath -SpoolPath $SpoolPath `
        -DnsServer $dns.EndPoint -NoReverseLookup -MaxSessionsPerClient 200 `
    -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000
    $fwd = Start-SmtpFwd -SpoolPath $SpoolPath -SmartHost $SmartHost -TlsMode None `
        -MaxConnections $MaxConnections -PollInterval '00:00:05'
    [Console]::Out.WriteLine("ready $($proxy.LocalEndPoints[0].Port) $PID")
    [Console]::Out.Flush()
    while ($null -ne ($line = [Console]::In.ReadLine())) {
        if ($line -ne 'sample') { continue }
        $live = [GC]::GetTotalMemory($true)
        $info = [GC]::GetGCMemoryInfo()
        $fds = @([IO.Directory]::EnumerateFileSystemEntries('/proc/self/fd')).Count
        $values = @(
            (Get-StatusValue 'VmRSS'), (Get-StatusValue 'Threads'), $fds,
            $live, $info.HeapSizeBytes, $info.TotalCommittedBytes, [GC]::CollectionCount(2),
            $proxy.Accepted, $proxy.Refused, $fwd.Forwarded, $fwd.Deferred, $fwd.Failed, $fwd.Counters.Errors,
            (Get-Backlog))
        [Console]::Out.WriteLine('sample ' + ($values -join ' '))
        [Console]::Out.Flush()
    }
    Stop-SmtpdProxy -InputObject $proxy -Confirm:$false
    $deadline = [DateTime]::UtcNow.AddSeconds($DrainSeconds)
    while ((Get-Backlog) -gt 0 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
    $backlog = Get-Backlog
    Stop-SmtpFwd -InputObject $fwd -Confirm:$false
    [Console]::Out.WriteLine("stopped $($proxy.Accepted) $($proxy.Refused) $($proxy.Sessions) $($fwd.Forwarded) $($fwd.Deferred) $($fwd.Failed) $($fwd.Counters.Errors) $backlog")
}
finally {
    $dns.Stop()
}
