using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The embedded state store: one process, held in memory, gone on restart (greylisting then
    /// delays a returning sender once more, limits start a fresh window; neither loses mail).
    /// </summary>
    /// <remarks>
    /// <para>One lock guards everything. Every operation is a dictionary lookup and at most a few
    /// O(log n) steps on the expiry order, so the lock is held for microseconds; what the lock buys
    /// is that SET NX and INCRBY are atomic with no retry loops.</para>
    /// <para>Expired entries are dropped when touched, and all at once when the store is full. The
    /// store holds at most <see cref="MaxEntries"/>: a new key arriving when it is full first sweeps
    /// the expired entries, and if none were, evicts the one nearest its expiry (among equals, the
    /// one written longest ago; keys without expiry go last). That entry loses the least: a greylist
    /// triplet or a counter window about to lapse would soon be gone anyway, and it is Redis's own
    /// volatile-ttl policy, so a full store behaves as a full Redis configured so. The same order
    /// serves both steps: expired entries are exactly those at its front.</para>
    /// <para>The bound is on entries, not bytes; keys and values are the short text the checks write.</para>
    /// </remarks>
    public sealed class MemoryStateStore : IStateStore
    {
        /// <summary>The bound when none is given.</summary>
        public const int DefaultMaxEntries = 100_000;

        const long Never = long.MaxValue;

        readonly object _gate = new object();
        readonly Dictionary<string, Entry> _entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        readonly SortedSet<Entry> _byExpiry = new SortedSet<Entry>(ExpiryOrder.Instance);
        readonly ISystemClock _clock;
        long _written;

        /// <param name="maxEntries">The most entries held at once.</param>
        /// <param name="clock">The time expiry is measured by; null for the machine's clock.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEntries"/> is less than 1.</exception>
        public MemoryStateStore(int maxEntries = DefaultMaxEntries, ISystemClock clock = null)
        {
            if (maxEntries < 1) throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "at least one entry");
            MaxEntries = maxEntries;
            _clock = clock ?? SystemClock.Instance;
        }

        /// <summary>The most entries held at once.</summary>
        public int MaxEntries { get; }

        /// <summary>Entries held now, counting expired ones not yet dropped; never above <see cref="MaxEntries"/>.</summary>
        public int Count { get { lock (_gate) return _entries.Count; } }

        public Task<string> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<string>(cancellationToken);
            lock (_gate)
                return Task.FromResult(Live(key, Now())?.Value);
        }

        public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default)
        {
            CheckKey(key);
            CheckValue(value);
            if (ttl != null) CheckTtl(ttl.Value, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                Put(key, value, ttl == null ? Never : ExpiryOf(now, ttl.Value), now);
            }
            return Task.CompletedTask;
        }

        public Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default)
        {
            CheckKey(key);
            CheckValue(value);
            CheckTtl(ttl, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                if (Live(key, now) != null) return Task.FromResult(false);
                Put(key, value, ExpiryOf(now, ttl), now);
                return Task.FromResult(true);
            }
        }

        public Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default)
        {
            CheckKey(key);
            CheckTtl(ttlOnCreate, nameof(ttlOnCreate));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<long>(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                var entry = Live(key, now);
                if (entry == null)
                {
                    Put(key, StateInteger.Format(delta), ExpiryOf(now, ttlOnCreate), now);
                    return Task.FromResult(delta);
                }
                if (!StateInteger.TryParse(entry.Value, out long current))
                    return Task.FromException<long>(new StateValueException(key, StateValueProblem.NotAnInteger));
                long sum;
                try { sum = checked(current + delta); }
                catch (OverflowException) { return Task.FromException<long>(new StateValueException(key, StateValueProblem.Overflow)); }
                // In place: the expiry and the entry's place in the eviction order stay as they were.
                entry.Value = StateInteger.Format(sum);
                return Task.FromResult(sum);
            }
        }

        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
        {
            CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
            {
                var entry = Live(key, Now());
                if (entry == null) return Task.FromResult(false);
                Drop(entry);
                return Task.FromResult(true);
            }
        }

        public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default)
        {
            if (prefix == null) throw new ArgumentNullException(nameof(prefix));
            if (limit < 1) throw new ArgumentOutOfRangeException(nameof(limit), limit, "at least one entry");
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<IReadOnlyList<StateEntry>>(cancellationToken);
            var found = new List<StateEntry>();
            lock (_gate)
            {
                long now = Now();
                foreach (var entry in _entries.Values)
                {
                    if (entry.ExpiresAt <= now || !entry.Key.StartsWith(prefix, StringComparison.Ordinal)) continue;
                    found.Add(new StateEntry(entry.Key, entry.Value, entry.ExpiresAt == Never ? (TimeSpan?)null : TimeSpan.FromTicks(entry.ExpiresAt - now)));
                    if (found.Count == limit) break;
                }
            }
            return Task.FromResult<IReadOnlyList<StateEntry>>(found);
        }

        long Now() => _clock.UtcNow.UtcTicks;

        static long ExpiryOf(long now, TimeSpan ttl) =>
            ttl.Ticks >= Never - now ? Never : now + ttl.Ticks;   // a TTL past the end of time is no expiry

        // Under _gate: the entry under key if it has not expired; an expired one is dropped on the way.
        Entry Live(string key, long now)
        {
            if (!_entries.TryGetValue(key, out var entry)) return null;
            if (entry.ExpiresAt > now) return entry;
            Drop(entry);
            return null;
        }

        // Under _gate, after Live(key) said there is no live entry or to replace the one there.
        void Put(string key, string value, long expiresAt, long now)
        {
            if (_entries.TryGetValue(key, out var entry))
                _byExpiry.Remove(entry);   // re-added below: its place in the order changes with the expiry
            else
            {
                MakeRoom(now);
                entry = new Entry(key);
                _entries.Add(key, entry);
            }
            entry.Value = value;
            entry.ExpiresAt = expiresAt;
            entry.Written = ++_written;
            _byExpiry.Add(entry);
        }

        void MakeRoom(long now)
        {
            if (_entries.Count < MaxEntries) return;
            bool swept = false;
            for (var first = _byExpiry.Min; first != null && first.ExpiresAt <= now; first = _byExpiry.Min)
            {
                Drop(first);
                swept = true;
            }
            if (!swept) Drop(_byExpiry.Min);
        }

        void Drop(Entry entry)
        {
            _byExpiry.Remove(entry);
            _entries.Remove(entry.Key);
        }

        static void CheckKey(string key)
        {
            if (key == null) throw new ArgumentNullException(nameof(key));
        }

        static void CheckValue(string value)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
        }

        static void CheckTtl(TimeSpan ttl, string name)
        {
            // Redis refuses PX 0 and negative times; refusing here keeps the stores alike.
            if (ttl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, ttl, "a TTL must be positive");
        }

        sealed class Entry
        {
            public Entry(string key) { Key = key; }
            public string Key { get; }
            public string Value;
            /// <summary>UTC ticks at which the entry is gone; <see cref="Never"/> for none.</summary>
            public long ExpiresAt;
            /// <summary>When it was last written, as a count: breaks ties in the order.</summary>
            public long Written;
        }

        // Nearest expiry first, then oldest write; Written is unique, so no two entries compare equal.
        sealed class ExpiryOrder : IComparer<Entry>
        {
            public static readonly ExpiryOrder Instance = new ExpiryOrder();

            public int Compare(Entry x, Entry y)
            {
                int c = x.ExpiresAt.CompareTo(y.ExpiresAt);
                return c != 0 ? c : x.Written.CompareTo(y.Written);
            }
        }
    }
}
