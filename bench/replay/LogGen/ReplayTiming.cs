using System;
using System.Diagnostics;
using System.IO;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Bench.Replay
{
    /// <summary>Where a replay's time goes, in CPU time of this thread's process (the machine may be busy): parsing JSON, reading records, deciding again.
    /// The replay alone runs several more passes (REPLAY_PASSES, default 5) and reports its best, with the bytes it allocates per decision.</summary>
    static class ReplayTiming
    {
        public static int Run(string rulesPath, string logPath)
        {
            var lines = File.ReadAllLines(logPath);
            var records = new DecisionRecord[lines.Length];
            for (int pass = 0; pass < 2; pass++)
            {
                Time("json", lines.Length, () => { foreach (var l in lines) JsonReader.Parse(l); });
                Time("record", lines.Length, () => { for (int i = 0; i < lines.Length; i++) records[i] = DecisionRecordReader.FromLine(lines[i]); });
                var cmp = new RuleComparison(new PolicyPipeline(new RuleEvaluator(RuleSet.Load(rulesPath))), null);
                Time("replay", lines.Length, () => { foreach (var r in records) cmp.CompareAsync(r).GetAwaiter().GetResult(); });
                if (pass == 1) Console.WriteLine(cmp.Summary);
            }
            var passes = int.TryParse(Environment.GetEnvironmentVariable("REPLAY_PASSES"), out var p) ? p : 5;
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(rulesPath)));
            double best = double.MaxValue;
            long bytes = 0;
            double pause = 0;
            for (int pass = 0; pass < passes; pass++)
            {
                var cmp = new RuleComparison(pipeline, null);
                var before = GC.GetAllocatedBytesForCurrentThread();
                var paused = GC.GetTotalPauseDuration();
                var s = Cpu(() => { foreach (var r in records) cmp.CompareAsync(r).GetAwaiter().GetResult(); });
                bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / records.Length;
                if (s < best) pause = (GC.GetTotalPauseDuration() - paused).TotalMilliseconds * 1e3 / records.Length;
                best = Math.Min(best, s);
            }
            if (Environment.GetEnvironmentVariable("REPLAY_ALLOCATIONS") != null)
            {
                using (var types = new AllocationTypes())
                {
                    var cmp = new RuleComparison(pipeline, null);
                    types.On = true;
                    for (int pass = 0; pass < 3; pass++) foreach (var r in records) cmp.CompareAsync(r).GetAwaiter().GetResult();
                    types.On = false;
                    types.Print(40);
                }
            }
            Console.WriteLine($"replay-best {records.Length / best,12:N0}/cpu-s  {best * 1e6 / records.Length,8:N2} us each  {bytes,6} B each  (GC pauses {pause:N2} us each)");
            return 0;
        }

        static double Cpu(Action a)
        {
            var p = Process.GetCurrentProcess();
            var cpu = p.TotalProcessorTime;
            a();
            p.Refresh();
            return (p.TotalProcessorTime - cpu).TotalSeconds;
        }

        static void Time(string what, int n, Action a)
        {
            var s = Cpu(a);
            Console.WriteLine($"{what,-8} {n / s,12:N0}/cpu-s  {s * 1e6 / n,8:N1} us each");
        }
    }
}
