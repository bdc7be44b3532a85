using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>Compaction rewrites the journal as the live entries, in the background, without
    /// losing what callers write while it runs.</summary>
    public sealed class FileStateStoreCompactionTests : IDisposable
    {
        static readonly TimeSpan Hour = TimeSpan.FromHours(1);

        readonly FakeClock _clock = new FakeClock();
        readonly TempStateFolder _folder = new TempStateFolder();
        readonly Xunit.Abstractions.ITestOutputHelper _output;

        public FileStateStoreCompactionTests(Xunit.Abstractions.ITestOutputHelper output) { _output = output; }

        FileStateStore Open(long floor = long.MaxValue, TimeSpan? tick = null) =>
            new FileStateStore(_folder.Path, new FileStateStoreOptions
            {
                Clock = _clock, CompactionFloorBytes = floor, SyncInterval = tick ?? TimeSpan.FromSeconds(1),
            });

        public void Dispose() => _folder.Dispose();

        static async Task<string> Contents(FileStateStore store) =>
            string.Join("\n", (await store.ListAsync("", int.MaxValue)).OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => e.ToString()));

        [Fact]
        public async Task Compaction_shrinks_the_journal_and_keeps_every_live_entry_with_its_expiry()
        {
            string before;
            using (var store = Open())
            {
                for (int i = 0; i < 50; i++) await store.SetAsync("k" + i, "v" + i, i % 2 == 0 ? (TimeSpan?)null : TimeSpan.FromMinutes(i));
                for (int i = 0; i < 2000; i++) await store.SetAsync("hot", "value " + i, Hour);
                for (int i = 0; i < 500; i++) await store.IncrementAsync("count", 1, Hour);
                for (int i = 0; i < 10; i++) await store.RemoveAsync("k" + i);
                long grown = store.JournalLength;
                before = await Contents(store);

                store.CompactNow();

                Assert.Equal(1, store.Compactions);
                Assert.True(store.JournalLength < grown / 20, store.JournalLength + " of " + grown);
                Assert.Equal(before, await Contents(store));
                await store.SetAsync("after", "compaction", null);   // appends go to the new journal
                Assert.False(File.Exists(_folder.NewJournal));
            }
            using (var store = Open())
            {
                Assert.Equal(StateJournalDamage.None, store.Recovery.Damage);
                Assert.Equal("compaction", await store.GetAsync("after"));
                await store.RemoveAsync("after");
                Assert.Equal(before, await Contents(store));
            }
        }

        [Fact]
        public async Task Compaction_leaves_out_what_has_expired()
        {
            using var store = Open();
            for (int i = 0; i < 100; i++) await store.SetAsync("k" + i, "v", TimeSpan.FromMinutes(1));
            _clock.Advance(TimeSpan.FromMinutes(1));
            store.CompactNow();
            Assert.Equal(8, store.JournalLength);   // the header alone
        }

        [Fact]
        public async Task The_journal_compacts_itself_when_it_outgrows_twice_the_live_data()
        {
            const long floor = 4096;
            long written = 0;
            string contents;
            using (var store = Open(floor, tick: TimeSpan.FromMilliseconds(20)))
            {
                for (int i = 0; i < 5000; i++)
                {
                    long was = store.JournalLength;
                    await store.SetAsync("key" + i % 10, "value " + i, Hour);
                    written += Math.Max(0, store.JournalLength - was);
                }
                // A burst outruns a compaction (it fsyncs), so the journal can end above the
                // bound; the next write or tick starts another. Ten live keys take ~350 bytes.
                var deadline = DateTime.UtcNow.AddSeconds(10);
                while (store.JournalLength >= floor && DateTime.UtcNow < deadline) await Task.Delay(10);
                await store.WhenIdleAsync();
                Assert.True(store.Compactions >= 1);
                Assert.True(store.JournalLength < floor, store.JournalLength + " of " + written + " written");
                contents = await Contents(store);
                Assert.Contains("key9 = value 4999", contents);
            }
            using (var store = Open(floor))
                Assert.Equal(contents, await Contents(store));
        }

        [Fact]
        public async Task Writes_at_every_step_of_a_compaction_and_from_other_threads_all_survive()
        {
            var acked = new long[2];
            using (var store = Open())
            {
                for (int i = 0; i < 1000; i++) await store.SetAsync("pre:" + i, "v" + i, Hour);

                // Each step's writes land in a different part of the scheme: the records kept
                // aside while the copy is written, the catch-up rounds, and the last few appended
                // under the lock at the swap.
                var steps = new List<CompactionStep>();
                long[] atCopy = null;
                store.CompactionStepHook = step =>
                {
                    steps.Add(step);
                    if (step == CompactionStep.Copied) atCopy = (long[])acked.Clone();
                    if (step == CompactionStep.Synced)   // the other threads get a turn while the copy is written
                        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref acked[0]) > atCopy[0] + 10 && Volatile.Read(ref acked[1]) > atCopy[1] + 10, TimeSpan.FromSeconds(30)));
                    int n = step == CompactionStep.Written ? 300 : 10;
                    for (int i = 0; i < n; i++)
                    {
                        store.SetAsync(step + ":" + i, "v" + i, null).GetAwaiter().GetResult();
                        store.IncrementAsync("steps", 1, Hour).GetAwaiter().GetResult();
                    }
                    if (step == CompactionStep.Copied)
                        for (int i = 0; i < 10; i++) store.RemoveAsync("pre:" + i).GetAwaiter().GetResult();
                };

                using var stop = new CancellationTokenSource();
                var running = Enumerable.Range(0, 2).Select(_ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
                // Threads of their own: a loop whose awaits all complete at once would hold a pool
                // thread for good and starve the compaction's. Keys cycle, so the store never fills.
                var writers = Enumerable.Range(0, 2).Select(t => Task.Factory.StartNew(() =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        long n = store.IncrementAsync("thread:" + t, 1, Hour).GetAwaiter().GetResult();
                        store.SetAsync("thread:" + t + ":" + n % 1000, n.ToString(), Hour).GetAwaiter().GetResult();
                        Volatile.Write(ref acked[t], n);
                        if (n == 100) running[t].TrySetResult(true);
                    }
                }, TaskCreationOptions.LongRunning)).ToArray();
                await Task.WhenAll(running.Select(r => r.Task));   // both write before, during and after

                var watch = System.Diagnostics.Stopwatch.StartNew();
                await Task.Run(() => store.CompactNow());
                stop.Cancel();
                _output.WriteLine("compaction " + watch.ElapsedMilliseconds + " ms; writers acknowledged " + acked[0] + " and " + acked[1]);
                await Task.WhenAll(writers);

                Assert.Equal(new[] { CompactionStep.Copied, CompactionStep.Written, CompactionStep.Synced }, steps);
                Assert.Equal(1, store.Compactions);
                await Check(store, acked);
            }
            using (var store = Open())
                await Check(store, acked);
        }

        static async Task Check(FileStateStore store, long[] acked)
        {
            Assert.Equal("320", await store.GetAsync("steps"));
            foreach (var (step, n) in new[] { (CompactionStep.Copied, 10), (CompactionStep.Written, 300), (CompactionStep.Synced, 10) })
                for (int i = 0; i < n; i++)
                    Assert.Equal("v" + i, await store.GetAsync(step + ":" + i));
            for (int i = 0; i < 1000; i++)
                Assert.Equal(i < 10 ? null : "v" + i, await store.GetAsync("pre:" + i));
            for (int t = 0; t < acked.Length; t++)
            {
                Assert.Equal(acked[t].ToString(), await store.GetAsync("thread:" + t));
                for (long i = Math.Max(1, acked[t] - 999); i <= acked[t]; i++)   // each key's last write
                    Assert.Equal(i.ToString(), await store.GetAsync("thread:" + t + ":" + i % 1000));
            }
        }
    }
}
