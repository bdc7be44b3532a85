using System;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A full store sweeps expired entries first, then evicts the one nearest expiry.</summary>
    public class MemoryStateStoreBoundTests
    {
        static TimeSpan Seconds(int n) => TimeSpan.FromSeconds(n);

        readonly FakeClock _clock = new FakeClock();

        [Fact]
        public async Task A_full_store_sweeps_every_expired_entry_before_evicting_a_live_one()
        {
            var store = new MemoryStateStore(4, _clock);
            await store.SetAsync("e10", "v", Seconds(10));
            await store.SetAsync("e20", "v", Seconds(20));
            await store.SetAsync("forever", "v", null);
            await store.SetAsync("e30", "v", Seconds(30));
            _clock.Advance(Seconds(25));

            await store.SetAsync("new", "v", Seconds(60));

            Assert.Equal(3, store.Count);   // both expired went, nothing live did
            Assert.Equal("v", await store.GetAsync("e30"));
            Assert.Equal("v", await store.GetAsync("forever"));
        }

        [Fact]
        public async Task With_nothing_expired_the_entry_nearest_expiry_goes_and_keys_without_expiry_go_last()
        {
            var store = new MemoryStateStore(3, _clock);
            await store.SetAsync("forever-old", "v", null);
            await store.SetAsync("late", "v", Seconds(50));
            await store.SetAsync("soon", "v", Seconds(10));

            await store.SetAsync("forever-new", "v", null);
            Assert.Null(await store.GetAsync("soon"));

            await store.IncrementAsync("counter", 1, Seconds(100));
            Assert.Null(await store.GetAsync("late"));

            await store.SetIfAbsentAsync("x", "v", Seconds(200));
            Assert.Null(await store.GetAsync("counter"));

            await store.SetAsync("y", "v", Seconds(300));   // only "x" has an expiry: it goes before either key without one
            Assert.Null(await store.GetAsync("x"));

            await store.SetAsync("z", "v", Seconds(300));   // "y" is now nearest
            Assert.Null(await store.GetAsync("y"));
            Assert.Equal("v", await store.GetAsync("forever-old"));
            Assert.Equal("v", await store.GetAsync("forever-new"));

            await store.SetAsync("z", "w", null);           // all without expiry now: the one written longest ago goes
            await store.SetAsync("last", "v", null);
            Assert.Null(await store.GetAsync("forever-old"));
            Assert.Equal(3, store.Count);
        }

        [Fact]
        public async Task Replacing_or_incrementing_a_key_in_a_full_store_evicts_nothing()
        {
            var store = new MemoryStateStore(2, _clock);
            await store.SetAsync("a", "1", Seconds(10));
            await store.SetAsync("b", "1", Seconds(20));
            await store.SetAsync("a", "2", Seconds(10));
            await store.IncrementAsync("b", 1, Seconds(5));
            Assert.False(await store.SetIfAbsentAsync("a", "3", Seconds(10)));
            Assert.Equal("2", await store.GetAsync("a"));
            Assert.Equal("2", await store.GetAsync("b"));
        }

        [Fact]
        public async Task The_bound_holds_under_churn_from_many_threads()
        {
            const int max = 64;
            var store = new MemoryStateStore(max, _clock);
            int highest = 0;
            var workers = new Task[4];
            for (int w = 0; w < workers.Length; w++)
            {
                int seed = w;
                workers[w] = Task.Run(async () =>
                {
                    var random = new Random(seed);
                    for (int i = 0; i < 5000; i++)
                    {
                        string key = "k" + random.Next(1000);
                        var ttl = TimeSpan.FromMilliseconds(1 + random.Next(2000));
                        switch (random.Next(4))
                        {
                            case 0: await store.SetAsync(key, "v", random.Next(4) == 0 ? (TimeSpan?)null : ttl); break;
                            case 1: await store.SetIfAbsentAsync(key, "v", ttl); break;
                            case 2:
                                try { await store.IncrementAsync(key, 1, ttl); }
                                catch (StateValueException) { }   // landed on a "v"
                                break;
                            default: await store.RemoveAsync(key); break;
                        }
                        if (i % 10 == 0) _clock.Advance(TimeSpan.FromMilliseconds(1));
                        int count = store.Count;
                        lock (workers) highest = Math.Max(highest, count);
                    }
                });
            }
            await Task.WhenAll(workers);

            Assert.Equal(max, highest);   // it did fill, and never went past
            Assert.True(store.Count <= max);
        }
    }
}
