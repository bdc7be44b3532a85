using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A real crash: a child process writes to the store and prints what each
    /// acknowledged write was; the test kills it (SIGKILL on Unix, TerminateProcess on Windows)
    /// at a different point each round, then checks that every acknowledged write is there.</summary>
    public sealed class FileStateStoreCrashTests : IDisposable
    {
        readonly TempStateFolder _folder = new TempStateFolder();
        readonly ITestOutputHelper _output;

        public FileStateStoreCrashTests(ITestOutputHelper output) { _output = output; }

        public void Dispose() => _folder.Dispose();

        [Fact]
        public async Task Every_write_acknowledged_before_a_kill_is_there_after_it()
        {
            var acked = new List<long>();
            long last = 0;
            int midCompaction = 0;
            // A small floor, so that compactions run all the time and some kills land in one.
            foreach (var more in new[] { 300, 1100, 700, 1500 })
            {
                var child = await RunAndKill(stopAfter: last + more);
                Assert.True(child.OpenedAt >= last, "reopened at " + child.OpenedAt + " after " + last + " was acknowledged");
                acked.AddRange(child.Acked);
                last = child.Acked[child.Acked.Count - 1];
                if (File.Exists(_folder.NewJournal)) midCompaction++;   // killed with a new journal half-written
            }

            using var store = new FileStateStore(_folder.Path);
            long counter = long.Parse(await store.GetAsync("counter"));
            // The write in flight at the kill may have reached the file without its ack.
            Assert.InRange(counter, last, last + 1);
            foreach (var n in acked)
                Assert.Equal("value " + n, await store.GetAsync("item:" + n));
            _output.WriteLine(acked.Count + " acknowledged writes over 4 kills, " + midCompaction + " of them during a compaction; " + store.Recovery);
        }

        sealed class ChildRun
        {
            public long OpenedAt;
            public List<long> Acked = new List<long>();
        }

        async Task<ChildRun> RunAndKill(long stopAfter)
        {
            var helper = Path.Combine(AppContext.BaseDirectory, "StateStoreCrashHelper.dll");
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(helper);
            start.ArgumentList.Add(_folder.Path);
            start.ArgumentList.Add("2048");

            var run = new ChildRun();
            using var process = Process.Start(start);
            var errors = process.StandardError.ReadToEndAsync();
            var opened = await ReadLine(process);
            if (opened == null || !opened.StartsWith("open "))
                Assert.Fail("the helper said: " + opened + "\n" + await errors);   // stderr ends only when the helper does
            run.OpenedAt = long.Parse(opened.Split(' ')[1]);

            string line;
            while ((line = await ReadLine(process)) != null)
            {
                var n = long.Parse(line.Substring("ack ".Length));
                run.Acked.Add(n);
                if (n >= stopAfter) break;
            }
            process.Kill();
            // Acks the child printed before it died are acknowledged writes too.
            while ((line = await ReadLine(process)) != null)
                if (line.StartsWith("ack ")) run.Acked.Add(long.Parse(line.Substring("ack ".Length)));
            process.WaitForExit();
            if (run.Acked.Count == 0) Assert.Fail("no acknowledgement from the helper:\n" + await errors);
            return run;
        }

        static async Task<string> ReadLine(Process process)
        {
            var read = process.StandardOutput.ReadLineAsync();
            if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30))) != read)
                throw new TimeoutException("the helper went silent");
            return await read;
        }
    }
}
