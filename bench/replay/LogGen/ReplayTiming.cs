using System;
using System.Diagnostics;
using System.IO;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench.Replay
{
    /// <summary>Where a replay's time goes, in CPU time of this thread's process (the machine may be busy): parsing JSON (json), reading records the reference way (refrec), from a line (record) and from the file (fileread), deciding again.</summary>
    static class ReplayTiming
    {
        public static int Run(string rulesPath, string logPath)
        {
            var lines = File.ReadAllLines(logPath);
            var records = new DecisionRecord[lines.Length];
            // More passes (REPLAY_PASSES) steady the numbers on a busy machine.
            int passes = Environment.GetEnvironmentVariable("REPLAY_PASSES") is string n ? int.Parse(n) : 2;
            for (int pass = 0; pass < passes; pass++)
            {
                Time("json", lines.Length, () => { foreach (var l in lines) JsonReader.Parse(l); });
                Time("refrec", lines.Length, () =>
                {
                    foreach (var l in lines)
                        if (JsonReader.Parse(l) is System.Collections.Generic.Dictionary<string, object> d && d["event"] as string == DecisionRecordReader.EventName)
                            DecisionRecordReader.FromData(d);
                });
                Time("record", lines.Length, () => { for (int i = 0; i < lines.Length; i++) records[i] = DecisionRecordReader.FromLine(lines[i]); });
                Time("fileread", lines.Length, () =>
                {
                    // The replay's own path: bytes from a FileStream, no strings per line.
                    using (var reader = DecisionLogReader.Open(logPath))
                        while (reader.Read(out var entry)) if (entry.Error != null) throw entry.Error;
                });
                var cmp = new RuleComparison(new PolicyPipeline(new RuleEvaluator(RuleSet.Load(rulesPath))), null);
                Time("replay", lines.Length, () => { foreach (var r in records) cmp.CompareAsync(r).GetAwaiter().GetResult(); });
                if (pass == 1) Console.WriteLine(cmp.Summary);
            }
            return 0;
        }

        static void Time(string what, int n, Action a)
        {
            // The last step's garbage is not this one's cost.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var p = Process.GetCurrentProcess();
            var cpu = p.TotalProcessorTime;
            a();
            p.Refresh();
            var s = (p.TotalProcessorTime - cpu).TotalSeconds;
            Console.WriteLine($"{what,-8} {n / s,12:N0}/cpu-s  {s * 1e6 / n,8:N1} us each");
        }
    }
}
