using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>The embedded store: values, expiry by its clock, increments, removal, arguments.</summary>
    public class MemoryStateStoreTests
    {
        static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

        readonly FakeClock _clock = new FakeClock();
        MemoryStateStore Store(int max = MemoryStateStore.DefaultMaxEntries) => new MemoryStateStore(max, _clock);

        [Fact]
        public async Task A_value_lives_exactly_as_long_as_its_ttl()
        {
            var store = Store();
            await store.SetAsync("k", "v", TimeSpan.FromSeconds(10));
            _clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
            Assert.Equal("v", await store.GetAsync("k"));
            _clock.Advance(TimeSpan.FromTicks(1));
            Assert.Null(await store.GetAsync("k"));
            Assert.Equal(0, store.Count);   // dropped when read, not only hidden
        }

        [Fact]
        public async Task A_set_replaces_the_value_and_the_expiry()
        {
            var store = Store();
            await store.SetAsync("k", "1", Minute);
            await store.SetAsync("k", "2", null);
            _clock.Advance(TimeSpan.FromDays(365));
            Assert.Equal("2", await store.GetAsync("k"));

            await store.SetAsync("k", "3", Minute);
            _clock.Advance(Minute);
            Assert.Null(await store.GetAsync("k"));
        }

        [Fact]
        public async Task Set_if_absent_stores_only_where_no_live_value_is()
        {
            var store = Store();
            Assert.True(await store.SetIfAbsentAsync("k", "first", Minute));
            Assert.False(await store.SetIfAbsentAsync("k", "second", Minute));
            Assert.Equal("first", await store.GetAsync("k"));

            _clock.Advance(Minute);
            Assert.True(await store.SetIfAbsentAsync("k", "third", Minute));
            Assert.Equal("third", await store.GetAsync("k"));
        }

        [Fact]
        public async Task An_increment_creates_the_key_at_delta_and_adds_to_an_integer_set_by_hand()
        {
            var store = Store();
            Assert.Equal(-3, await store.IncrementAsync("n", -3, Minute));
            Assert.Equal(2, await store.IncrementAsync("n", 5, Minute));
            Assert.Equal("2", await store.GetAsync("n"));

            await store.SetAsync("m", "-9223372036854775807", null);
            Assert.Equal(long.MinValue, await store.IncrementAsync("m", -1, Minute));
        }

        [Fact]
        public async Task Later_increments_do_not_extend_the_window_set_on_create()
        {
            var store = Store();
            Assert.Equal(1, await store.IncrementAsync("window", 1, Minute));
            _clock.Advance(TimeSpan.FromSeconds(59));
            Assert.Equal(2, await store.IncrementAsync("window", 1, Minute));
            _clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Null(await store.GetAsync("window"));
            Assert.Equal(1, await store.IncrementAsync("window", 1, Minute));   // a fresh window
        }

        [Fact]
        public async Task An_increment_keeps_a_key_without_expiry_without_expiry()
        {
            var store = Store();
            await store.SetAsync("k", "10", null);
            Assert.Equal(11, await store.IncrementAsync("k", 1, Minute));
            _clock.Advance(TimeSpan.FromDays(1));
            Assert.Equal("11", await store.GetAsync("k"));
        }

        [Theory]
        [InlineData("abc")]
        [InlineData("")]
        [InlineData(" 1")]
        [InlineData("1 ")]
        [InlineData("+1")]
        [InlineData("01")]
        [InlineData("-0")]
        [InlineData("-")]
        [InlineData("1.5")]
        [InlineData("9223372036854775808")]
        [InlineData("-9223372036854775809")]
        [InlineData("99999999999999999999")]
        public async Task Incrementing_what_redis_would_not_call_an_integer_throws_and_leaves_the_value(string value)
        {
            var store = Store();
            await store.SetAsync("k", value, Minute);
            var e = await Assert.ThrowsAsync<StateValueException>(() => store.IncrementAsync("k", 1, Minute));
            Assert.Equal("k", e.Key);
            Assert.Equal(StateValueProblem.NotAnInteger, e.Problem);
            Assert.Equal(value, await store.GetAsync("k"));
        }

        [Fact]
        public async Task An_increment_past_the_range_throws_overflow_and_leaves_the_value()
        {
            var store = Store();
            await store.SetAsync("k", "9223372036854775807", null);
            var e = await Assert.ThrowsAsync<StateValueException>(() => store.IncrementAsync("k", 1, Minute));
            Assert.Equal(StateValueProblem.Overflow, e.Problem);
            Assert.Equal("9223372036854775807", await store.GetAsync("k"));
        }

        [Fact]
        public async Task Remove_says_whether_a_live_value_went()
        {
            var store = Store();
            await store.SetAsync("k", "v", null);
            await store.SetAsync("old", "v", Minute);
            _clock.Advance(Minute);

            Assert.True(await store.RemoveAsync("k"));
            Assert.Null(await store.GetAsync("k"));
            Assert.False(await store.RemoveAsync("k"));
            Assert.False(await store.RemoveAsync("never"));
            Assert.False(await store.RemoveAsync("old"));   // expired is as good as gone
            Assert.Equal(0, store.Count);
        }

        [Fact]
        public async Task Bad_arguments_and_cancellation_are_refused_before_anything_changes()
        {
            var store = Store();
            await Assert.ThrowsAsync<ArgumentNullException>(() => store.GetAsync(null));
            await Assert.ThrowsAsync<ArgumentNullException>(() => store.SetAsync("k", null, null));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetAsync("k", "v", TimeSpan.Zero));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.SetIfAbsentAsync("k", "v", TimeSpan.FromTicks(-1)));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.IncrementAsync("k", 1, TimeSpan.Zero));
            Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryStateStore(0));

            var cancelled = new CancellationToken(true);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SetAsync("k", "v", null, cancelled));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.IncrementAsync("k", 1, Minute, cancelled));
            Assert.Equal(0, store.Count);
        }

        [Fact]
        public async Task The_default_store_uses_the_machine_clock_and_the_default_bound()
        {
            var store = new MemoryStateStore();
            Assert.Equal(100_000, store.MaxEntries);
            Assert.True(await store.SetIfAbsentAsync("k", "v", Minute));
            Assert.Equal("v", await store.GetAsync("k"));
        }
    }
}
