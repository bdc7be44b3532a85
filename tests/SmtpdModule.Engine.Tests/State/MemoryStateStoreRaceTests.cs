using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>Many threads released at once on one key: set-if-absent has one winner, increments add up.</summary>
    public class MemoryStateStoreRaceTests
    {
        static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

        // Dedicated threads, not pool tasks: a barrier of blocked pool threads would wait on thread injection.
        static void RunTogether(int threads, Action<int> body)
        {
            using var start = new Barrier(threads);
            var failures = new List<Exception>();
            var all = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                try { start.SignalAndWait(); body(t); }
                catch (Exception e) { lock (failures) failures.Add(e); }
            })).ToList();
            all.ForEach(t => t.Start());
            all.ForEach(t => t.Join());
            Assert.Empty(failures);
        }

        [Fact]
        public async Task Of_many_threads_setting_one_key_if_absent_exactly_one_wins()
        {
            var store = new MemoryStateStore(clock: new FakeClock());
            const int threads = 8, rounds = 200;
            var winners = new int[rounds, threads];
            RunTogether(threads, t =>
            {
                for (int r = 0; r < rounds; r++)
                    if (store.SetIfAbsentAsync("key" + r, "thread" + t, Minute).Result) winners[r, t] = 1;
            });

            for (int r = 0; r < rounds; r++)
            {
                var won = Enumerable.Range(0, threads).Where(t => winners[r, t] == 1).ToList();
                Assert.Single(won);
                Assert.Equal("thread" + won[0], await store.GetAsync("key" + r));   // the winner's value stayed
            }
        }

        [Fact]
        public async Task Increments_from_many_threads_sum_exactly_and_each_sees_its_own_result()
        {
            var store = new MemoryStateStore(clock: new FakeClock());
            const int threads = 8, each = 5000;
            var seen = new long[threads][];
            RunTogether(threads, t =>
            {
                seen[t] = new long[each];
                for (int i = 0; i < each; i++) seen[t][i] = store.IncrementAsync("counter", 1, Minute).Result;
            });

            Assert.Equal(threads * each, await store.IncrementAsync("counter", 0, Minute));
            var results = seen.SelectMany(s => s).OrderBy(v => v).ToArray();
            Assert.Equal(Enumerable.Range(1, threads * each).Select(v => (long)v), results);   // no two saw the same count
        }
    }
}
