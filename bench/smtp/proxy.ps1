# Runs the proxy under test for bench/smtp/run.sh: Start-SmtpdProxy -Wait from the built module,
# exactly as an administrator would, plus one background thread that forces a full garbage
# collection when run.sh asks for one (so the idle-session figure can be read both as raw RSS and
# after a collection). The thread only polls for a request file; it does nothing else and ends by
# itself after -MaxHours.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [int] $Port,
    [Parameter(Mandatory)] [string] $RulesPath,
    [Parameter(Mandatory)] [string] $SpoolPath,
    [Parameter(Mandatory)] [string] $ControlDirectory,
    [double] $MaxHours = 3
)
$ErrorActionPreference = 'Stop'

Add-Type -TypeDefinition @'
using System;
using System.IO;
using System.Runtime;
using System.Threading;

public static class SmtpBenchGc
{
    // run.sh writes <dir>/gc.req; we collect (twice, with compaction, finalizers in between) and
    // answer in <dir>/gc.out: managed bytes live, GC heap size, committed bytes.
    public static void Start(string dir, double maxHours)
    {
        var request = Path.Combine(dir, "gc.req");
        var answer = Path.Combine(dir, "gc.out");
        var until = DateTime.UtcNow.AddHours(maxHours);
        var thread = new Thread(() =>
        {
            while (DateTime.UtcNow < until)
            {
                if (File.Exists(request))
                {
                    File.Delete(request);
                    GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                    GC.Collect(2, GCCollectionMode.Forced, true, true);
                    GC.WaitForPendingFinalizers();
                    GC.Collect(2, GCCollectionMode.Forced, true, true);
                    var info = GC.GetGCMemoryInfo();
                    var text = GC.GetTotalMemory(false) + " " + info.HeapSizeBytes + " " + info.TotalCommittedBytes + "\n";
                    File.WriteAllText(answer + ".tmp", text);
                    File.Move(answer + ".tmp", answer, true);
                }
                Thread.Sleep(50);
            }
        });
        thread.IsBackground = true;
        thread.Name = "smtp-bench-gc";
        thread.Start();
    }
}
'@
[SmtpBenchGc]::Start($ControlDirectory, $MaxHours)

Import-Module $ModulePath
# 127.0.0.1:9 (discard) answers no DNS question; -NoReverseLookup means none is asked anyway.
Start-SmtpdProxy -Listen "127.0.0.1:$Port" -RulesPath $RulesPath -SpoolPath $SpoolPath `
    -DnsServer 127.0.0.1:9 -NoReverseLookup -MaxSessions 2000 -MaxSessionsPerClient 2000 `
    -MaxSessionsPerNetwork 2000 -MaxConnectionsPerMinute 100000000 -MaxRecipientsPerMinute 100000000 -Wait |
    Out-Null
