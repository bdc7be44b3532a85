using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>
    /// What <see cref="IStateStore"/>'s documentation promises, tested the same way against every
    /// store (MemoryStateStoreContractTests, RedisStateStoreContractTests), so the embedded store
    /// and Redis cannot drift in meaning. Time is the machine's: expiry is shown with short real
    /// TTLs and polling bounded by a deadline, never a fixed sleep, so a busy machine only makes a
    /// test slower.
    /// </summary>
    public abstract class StateStoreContract : IAsyncLifetime
    {
        protected static readonly TimeSpan Hour = TimeSpan.FromHours(1);
        static readonly TimeSpan Short = TimeSpan.FromMilliseconds(150);

        /// <summary>A store with nothing in it that other tests can see.</summary>
        protected abstract Task<IStateStore> CreateStoreAsync();

        /// <summary>A second client of the same store, as a second proxy would hold: the same instance
        /// for an embedded store, another connection for a server.</summary>
        protected abstract Task<IStateStore> CreatePeerAsync();

        protected IStateStore Store { get; private set; }

        readonly List<IStateStore> _opened = new List<IStateStore>();

        public async Task InitializeAsync()
        {
            Store = await CreateStoreAsync();
            _opened.Add(Store);
        }

        public Task DisposeAsync()
        {
            foreach (var store in _opened) (store as IDisposable)?.Dispose();
            return Task.CompletedTask;
        }

        async Task<IStateStore> Peer()
        {
            var peer = await CreatePeerAsync();
            if (!_opened.Contains(peer)) _opened.Add(peer);
            return peer;
        }

        Task UntilGoneAsync(string key) =>
            TestWait.UntilAsync(async () => await Store.GetAsync(key) == null, "key '" + key + "' did not expire");

        [Fact]
        public async Task A_missing_key_reads_null_and_a_set_value_reads_back_exactly()
        {
            Assert.Null(await Store.GetAsync("nothing"));
            foreach (var value in new[] { "v", "", " two words \r\n", "grüße 名前 🙂", new string('x', 10_000) })
            {
                await Store.SetAsync("k", value, null);
                Assert.Equal(value, await Store.GetAsync("k"));
            }
        }

        [Fact]
        public async Task A_value_set_with_a_ttl_is_gone_after_it_and_a_new_set_replaces_the_expiry()
        {
            await Store.SetAsync("short", "v", Short);
            await UntilGoneAsync("short");

            await Store.SetAsync("k", "1", Short);
            await Store.SetAsync("k", "2", null);   // no TTL: the expiry goes with the old value
            var entry = Assert.Single(await Store.ListAsync("k", 10));
            Assert.Equal("2", entry.Value);
            Assert.Null(entry.TimeToLive);

            await Store.SetAsync("k", "3", Hour);
            entry = Assert.Single(await Store.ListAsync("k", 10));
            Assert.Equal("3", entry.Value);
            Assert.InRange(entry.TimeToLive.Value, TimeSpan.FromMinutes(59), Hour);
        }

        [Fact]
        public async Task A_ttl_under_a_millisecond_is_taken_not_refused()
        {
            // Redis keeps whole milliseconds; rounding down would send PX 0, which Redis refuses.
            var tick = TimeSpan.FromTicks(1);
            await Store.SetAsync("a", "v", tick);
            Assert.True(await Store.SetIfAbsentAsync("b", "v", TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond / 2)));
            Assert.Equal(5, await Store.IncrementAsync("c", 5, tick));
            await UntilGoneAsync("a");
            await UntilGoneAsync("b");
            await UntilGoneAsync("c");
        }

        [Fact]
        public async Task Set_if_absent_stores_only_where_no_live_value_is()
        {
            Assert.True(await Store.SetIfAbsentAsync("k", "first", Short));
            Assert.False(await Store.SetIfAbsentAsync("k", "second", Hour));
            Assert.Equal("first", await Store.GetAsync("k"));

            await UntilGoneAsync("k");   // the loser's TTL did not stick either
            Assert.True(await Store.SetIfAbsentAsync("k", "third", Hour));
            Assert.Equal("third", await Store.GetAsync("k"));

            await Store.SetAsync("no-expiry", "x", null);
            Assert.False(await Store.SetIfAbsentAsync("no-expiry", "y", Hour));
        }

        [Fact]
        public async Task Of_many_callers_on_two_clients_setting_one_key_if_absent_exactly_one_wins()
        {
            var peer = await Peer();
            const int callers = 40, keys = 25;
            using var go = new ManualResetEventSlim();
            var started = Enumerable.Range(0, callers).Select(c => Task.Run(() =>
            {
                go.Wait();
                var store = c % 2 == 0 ? Store : peer;
                return Enumerable.Range(0, keys).Select(k => store.SetIfAbsentAsync("race:" + k, "caller" + c, Hour)).ToArray();
            })).ToArray();
            go.Set();
            var perCaller = await Task.WhenAll(started);
            for (int k = 0; k < keys; k++)
            {
                var winners = new List<int>();
                for (int c = 0; c < callers; c++)
                    if (await perCaller[c][k]) winners.Add(c);
                var winner = Assert.Single(winners);
                Assert.Equal("caller" + winner, await Store.GetAsync("race:" + k));
            }
        }

        [Fact]
        public async Task An_increment_creates_the_key_at_delta_and_adds_to_an_integer_set_by_hand()
        {
            Assert.Equal(-3, await Store.IncrementAsync("n", -3, Hour));
            Assert.Equal(2, await Store.IncrementAsync("n", 5, Hour));
            Assert.Equal(2, await Store.IncrementAsync("n", 0, Hour));
            Assert.Equal("2", await Store.GetAsync("n"));

            await Store.SetAsync("m", "-9223372036854775807", null);
            Assert.Equal(long.MinValue, await Store.IncrementAsync("m", -1, Hour));
            await Store.SetAsync("z", "0", null);
            Assert.Equal(long.MaxValue, await Store.IncrementAsync("z", long.MaxValue, Hour));
        }

        [Fact]
        public async Task Increments_keep_the_expiry_set_on_create_so_a_window_is_not_extended_by_use()
        {
            Assert.Equal(1, await Store.IncrementAsync("window", 1, Short));
            Assert.Equal(2, await Store.IncrementAsync("window", 1, Hour));   // the hour does not apply
            await UntilGoneAsync("window");
            Assert.Equal(1, await Store.IncrementAsync("window", 1, Hour));   // a fresh window, an hour long
            Assert.InRange(Assert.Single(await Store.ListAsync("window", 10)).TimeToLive.Value, TimeSpan.FromMinutes(59), Hour);

            await Store.SetAsync("forever", "10", null);
            Assert.Equal(11, await Store.IncrementAsync("forever", 1, Short));
            Assert.Null(Assert.Single(await Store.ListAsync("forever", 10)).TimeToLive);
        }

        [Theory]
        [InlineData("abc")]
        [InlineData("")]
        [InlineData(" 1")]
        [InlineData("1 ")]
        [InlineData("+1")]
        [InlineData("01")]
        [InlineData("-0")]
        [InlineData("1.5")]
        [InlineData("9223372036854775808")]
        public async Task An_increment_of_a_value_that_is_not_an_integer_fails_and_leaves_it(string value)
        {
            await Store.SetAsync("k", value, Hour);
            var ex = await Assert.ThrowsAsync<StateValueException>(() => Store.IncrementAsync("k", 1, Hour));
            Assert.Equal(StateValueProblem.NotAnInteger, ex.Problem);
            Assert.Equal("k", ex.Key);
            Assert.Equal(value, await Store.GetAsync("k"));
        }

        [Fact]
        public async Task An_increment_past_the_64_bit_range_fails_and_leaves_the_value()
        {
            await Store.SetAsync("k", "9223372036854775806", null);
            var ex = await Assert.ThrowsAsync<StateValueException>(() => Store.IncrementAsync("k", 2, Hour));
            Assert.Equal(StateValueProblem.Overflow, ex.Problem);
            Assert.Equal("9223372036854775806", await Store.GetAsync("k"));
            await Store.SetAsync("m", "-9223372036854775808", null);
            Assert.Equal(StateValueProblem.Overflow, (await Assert.ThrowsAsync<StateValueException>(() => Store.IncrementAsync("m", -1, Hour))).Problem);
        }

        [Fact]
        public async Task Increments_from_many_callers_on_two_clients_sum_exactly_and_each_sees_its_own_result()
        {
            var peer = await Peer();
            const int callers = 20, each = 50;
            using var go = new ManualResetEventSlim();
            var started = Enumerable.Range(0, callers).Select(c => Task.Run(async () =>
            {
                go.Wait();
                var store = c % 2 == 0 ? Store : peer;
                var results = new List<long>();
                for (int i = 0; i < each; i++) results.Add(await store.IncrementAsync("counter", 1, Hour));
                return results;
            })).ToArray();
            go.Set();
            var seen = (await Task.WhenAll(started)).SelectMany(r => r).OrderBy(v => v).ToList();
            Assert.Equal(Enumerable.Range(1, callers * each).Select(v => (long)v), seen);
            Assert.Equal((callers * each).ToString(), await Store.GetAsync("counter"));
        }

        [Fact]
        public async Task Remove_says_whether_a_live_value_was_there()
        {
            await Store.SetAsync("k", "v", Hour);
            Assert.True(await Store.RemoveAsync("k"));
            Assert.Null(await Store.GetAsync("k"));
            Assert.False(await Store.RemoveAsync("k"));
            Assert.False(await Store.RemoveAsync("never"));

            await Store.SetAsync("brief", "v", Short);
            await UntilGoneAsync("brief");
            Assert.False(await Store.RemoveAsync("brief"));
        }

        [Fact]
        public async Task A_listing_has_the_live_keys_under_the_prefix_with_values_and_lifetimes()
        {
            await Store.SetAsync("grey:a", "1", Hour);
            await Store.SetAsync("grey:b", "2", null);
            await Store.SetAsync("grey", "not under grey:", Hour);
            await Store.SetAsync("limit:a", "3", Hour);
            await Store.SetAsync("grey:gone", "4", Short);
            await UntilGoneAsync("grey:gone");

            var listed = (await Store.ListAsync("grey:", 100)).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            Assert.Equal(new[] { "grey:a", "grey:b" }, listed.Select(e => e.Key));
            Assert.Equal(new[] { "1", "2" }, listed.Select(e => e.Value));
            Assert.InRange(listed[0].TimeToLive.Value, TimeSpan.FromMinutes(59), Hour);
            Assert.Null(listed[1].TimeToLive);

            Assert.Equal(4, (await Store.ListAsync("", 100)).Count);   // everything this store holds
            Assert.Empty(await Store.ListAsync("nothing:", 100));
        }

        [Fact]
        public async Task A_listing_stops_at_its_limit()
        {
            for (int i = 0; i < 30; i++) await Store.SetAsync("many:" + i, i.ToString(), Hour);
            var some = await Store.ListAsync("many:", 7);
            Assert.Equal(7, some.Count);
            Assert.Equal(7, some.Select(e => e.Key).Distinct().Count());
            Assert.All(some, e => Assert.Equal(e.Key.Substring("many:".Length), e.Value));
            Assert.Equal(30, (await Store.ListAsync("many:", 1000)).Count);
        }

        [Fact]
        public async Task A_listing_prefix_is_literal_text_even_with_glob_characters()
        {
            // Unescaped, the glob g[1]*?\: would match g1xy: too, and \ would escape the next character.
            const string prefix = "g[1]*?\\:";
            await Store.SetAsync(prefix + "x", "hit", Hour);
            await Store.SetAsync(prefix + "y", "hit", Hour);
            foreach (var decoy in new[] { "g1xy:z", "g[1]xy:z", "g[1]*?:z", "g[1]*?\\", "G[1]*?\\:x", "h" + prefix })
                await Store.SetAsync(decoy, "decoy", Hour);

            var listed = await Store.ListAsync(prefix, 100);
            Assert.Equal(new[] { prefix + "x", prefix + "y" }, listed.Select(e => e.Key).OrderBy(k => k, StringComparer.Ordinal));
            Assert.All(listed, e => Assert.Equal("hit", e.Value));
            foreach (var lone in new[] { "*", "?", "[", "]", "\\" })
            {
                await Store.SetAsync("lone" + lone + "k", "v", Hour);
                Assert.Equal("lone" + lone + "k", Assert.Single(await Store.ListAsync("lone" + lone, 10)).Key);
            }
        }

        [Fact]
        public async Task Bad_arguments_are_refused_before_anything_is_sent()
        {
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.GetAsync(null));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.SetAsync(null, "v", Hour));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.SetAsync("k", null, Hour));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.SetIfAbsentAsync("k", null, Hour));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.IncrementAsync(null, 1, Hour));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.RemoveAsync(null));
            await Assert.ThrowsAsync<ArgumentNullException>(() => Store.ListAsync(null, 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.ListAsync("", 0));
            foreach (var ttl in new[] { TimeSpan.Zero, TimeSpan.FromMilliseconds(-1) })
            {
                await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.SetAsync("k", "v", ttl));
                await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.SetIfAbsentAsync("k", "v", ttl));
                await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.IncrementAsync("k", 1, ttl));
            }
            Assert.Empty(await Store.ListAsync("", 10));
        }

        [Fact]
        public async Task A_cancelled_call_throws_operation_cancelled_and_changes_nothing()
        {
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            var token = cancelled.Token;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.GetAsync("k", token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.SetAsync("k", "v", Hour, token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.SetIfAbsentAsync("k", "v", Hour, token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.IncrementAsync("k", 1, Hour, token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.RemoveAsync("k", token));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.ListAsync("", 10, token));
            Assert.Empty(await Store.ListAsync("", 10));
        }
    }
}
