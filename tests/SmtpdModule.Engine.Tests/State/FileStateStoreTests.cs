using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>The persistent store means what the memory store means: values, expiry by its
    /// clock, increments, removal, listing, arguments; and it refuses what it cannot journal.</summary>
    public sealed class FileStateStoreTests : IDisposable
    {
        static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

        readonly FakeClock _clock = new FakeClock();
        readonly TempStateFolder _folder = new TempStateFolder();
        FileStateStore _store;

        FileStateStore Store(int max = MemoryStateStore.DefaultMaxEntries) =>
            _store = new FileStateStore(_folder.Path, new FileStateStoreOptions { MaxEntries = max, Clock = _clock });

        public void Dispose()
        {
            _store?.Dispose();
            _folder.Dispose();
        }

        [Fact]
        public async Task A_value_lives_exactly_as_long_as_its_ttl()
        {
            var store = Store();
            await store.SetAsync("k", "v", TimeSpan.FromSeconds(10));
            _clock.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromTicks(1));
            Assert.Equal("v", await store.GetAsync("k"));
            _clock.Advance(TimeSpan.FromTicks(1));
            Assert.Null(await store.GetAsync("k"));
            Assert.Equal(0, store.Count);
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
        public async Task Increments_create_at_delta_add_keep_the_window_and_refuse_non_integers()
        {
            var store = Store();
            Assert.Equal(-3, await store.IncrementAsync("n", -3, Minute));
            _clock.Advance(TimeSpan.FromSeconds(59));
            Assert.Equal(2, await store.IncrementAsync("n", 5, Minute));
            _clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Null(await store.GetAsync("n"));

            await store.SetAsync("k", "01", Minute);
            var e = await Assert.ThrowsAsync<StateValueException>(() => store.IncrementAsync("k", 1, Minute));
            Assert.Equal(StateValueProblem.NotAnInteger, e.Problem);
            await store.SetAsync("k", "9223372036854775807", null);
            e = await Assert.ThrowsAsync<StateValueException>(() => store.IncrementAsync("k", 1, Minute));
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
            Assert.False(await store.RemoveAsync("old"));
            Assert.Equal(0, store.Count);
        }

        [Fact]
        public async Task A_listing_shows_live_keys_under_the_prefix_with_their_lifetimes()
        {
            var store = Store();
            await store.SetAsync("grey:a", "1", Minute);
            await store.SetAsync("grey:b", "2", null);
            await store.SetAsync("grey:gone", "3", TimeSpan.FromSeconds(1));
            await store.SetAsync("rate:a", "4", Minute);
            _clock.Advance(TimeSpan.FromSeconds(1));

            var listed = (await store.ListAsync("grey:", 10)).OrderBy(e => e.Key, StringComparer.Ordinal).ToList();
            Assert.Equal(new[] { "grey:a", "grey:b" }, listed.Select(e => e.Key));
            Assert.Equal(TimeSpan.FromSeconds(59), listed[0].TimeToLive);
            Assert.Null(listed[1].TimeToLive);
            Assert.Single(await store.ListAsync("", 1));
        }

        [Fact]
        public async Task A_full_store_evicts_the_entry_nearest_its_expiry()
        {
            var store = Store(max: 3);
            await store.SetAsync("long", "v", TimeSpan.FromHours(1));
            await store.SetAsync("short", "v", Minute);
            await store.SetAsync("never", "v", null);
            await store.SetAsync("new", "v", TimeSpan.FromHours(2));
            Assert.Null(await store.GetAsync("short"));
            Assert.Equal(3, store.Count);
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
            await Assert.ThrowsAsync<ArgumentNullException>(() => store.ListAsync(null, 1));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.ListAsync("", 0));

            var cancelled = new CancellationToken(true);
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.SetAsync("k", "v", null, cancelled));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => store.IncrementAsync("k", 1, Minute, cancelled));
            Assert.Equal(0, store.Count);
            Assert.Equal(8, store.JournalLength);   // the header alone: nothing was written
        }

        [Fact]
        public async Task Keys_and_values_past_the_bounds_or_without_utf8_are_refused()
        {
            var store = Store();
            await store.SetAsync(new string('k', FileStateStore.MaxKeyBytes), new string('v', FileStateStore.MaxValueBytes), null);
            // Three bytes of UTF-8 each: the bound is on bytes, not characters.
            await store.SetAsync(new string('€', FileStateStore.MaxKeyBytes / 3), "v", null);

            await Assert.ThrowsAsync<ArgumentException>("key", () => store.SetAsync(new string('k', FileStateStore.MaxKeyBytes + 1), "v", null));
            await Assert.ThrowsAsync<ArgumentException>("key", () => store.SetAsync(new string('€', FileStateStore.MaxKeyBytes / 3 + 1), "v", null));
            await Assert.ThrowsAsync<ArgumentException>("value", () => store.SetIfAbsentAsync("k", new string('v', FileStateStore.MaxValueBytes + 1), Minute));
            await Assert.ThrowsAsync<ArgumentException>("key", () => store.IncrementAsync(new string('k', FileStateStore.MaxKeyBytes + 1), 1, Minute));
            await Assert.ThrowsAsync<ArgumentException>("key", () => store.SetAsync("bad\uD800", "v", null));
            await Assert.ThrowsAsync<ArgumentException>("value", () => store.SetAsync("k", "\uDC00", null));

            // Reading a key that could never be stored is simply a miss.
            Assert.Null(await store.GetAsync(new string('k', FileStateStore.MaxKeyBytes + 1)));
            Assert.Equal(2, store.Count);
        }

        [Fact]
        public async Task Options_out_of_range_are_refused_and_a_disposed_store_says_so()
        {
            Assert.Throws<ArgumentNullException>(() => new FileStateStore(null));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FileStateStore(_folder.Path, new FileStateStoreOptions { MaxEntries = 0 }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FileStateStore(_folder.Path, new FileStateStoreOptions { SyncInterval = TimeSpan.Zero }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FileStateStore(_folder.Path, new FileStateStoreOptions { SyncInterval = TimeSpan.FromDays(1) }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new FileStateStore(_folder.Path, new FileStateStoreOptions { CompactionFloorBytes = -1 }));

            var store = new FileStateStore(_folder.Path);
            Assert.Equal(MemoryStateStore.DefaultMaxEntries, store.MaxEntries);
            Assert.Equal(StateJournalDamage.None, store.Recovery.Damage);
            store.Dispose();
            store.Dispose();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetAsync("k"));
            await Assert.ThrowsAsync<ObjectDisposedException>(() => store.SetAsync("k", "v", null));
            await Task.CompletedTask;
        }
    }
}
