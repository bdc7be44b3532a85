using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The embedded stores' index: entries by key, the expiry order, the bound and its eviction,
    /// and the meaning of each operation. Not thread-safe: a store calls it under its own lock,
    /// so that <see cref="FileStateStore"/> can journal what changed in the same order, under the
    /// same lock, as the change itself.
    /// </summary>
    /// <remarks>
    /// <para>Expired entries are dropped when touched, and all at once when the table is full. A
    /// new key arriving when it is full first sweeps the expired entries, and if none were, evicts
    /// the one nearest its expiry (among equals, the one written longest ago; keys without expiry
    /// go last): Redis's volatile-ttl policy. The same order serves both steps: expired entries
    /// are exactly those at its front.</para>
    /// <para>Times are UTC ticks; <see cref="Never"/> is no expiry.</para>
    /// </remarks>
    internal sealed class StateTable
    {
        public const long Never = long.MaxValue;

        readonly Dictionary<string, Entry> _entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        readonly SortedSet<Entry> _byExpiry = new SortedSet<Entry>(ExpiryOrder.Instance);
        readonly IStateTableObserver _observer;
        long _written;

        /// <param name="maxEntries">At least 1; the caller checks.</param>
        /// <param name="observer">Told of every change; null for none.</param>
        public StateTable(int maxEntries, IStateTableObserver observer = null)
        {
            MaxEntries = maxEntries;
            _observer = observer;
        }

        public int MaxEntries { get; }

        /// <summary>Entries held, counting expired ones not yet dropped.</summary>
        public int Count => _entries.Count;

        public static long ExpiryOf(long now, TimeSpan ttl) =>
            ttl.Ticks >= Never - now ? Never : now + ttl.Ticks;   // a TTL past the end of time is no expiry

        public string Get(string key, long now) => Live(key, now)?.Value;

        public void Set(string key, string value, long expiresAt, long now)
        {
            Put(key, value, expiresAt, now);   // replaces whatever is there, expired or not
        }

        public bool SetIfAbsent(string key, string value, long expiresAt, long now)
        {
            if (Live(key, now) != null) return false;
            Put(key, value, expiresAt, now);
            return true;
        }

        /// <exception cref="StateValueException">Not an integer, or the sum overflows; nothing changed.</exception>
        public long Increment(string key, long delta, long expiresAtOnCreate, long now)
        {
            var entry = Live(key, now);
            if (entry == null)
            {
                Put(key, StateInteger.Format(delta), expiresAtOnCreate, now);
                return delta;
            }
            if (!StateInteger.TryParse(entry.Value, out long current))
                throw new StateValueException(key, StateValueProblem.NotAnInteger);
            long sum;
            try { sum = checked(current + delta); }
            catch (OverflowException) { throw new StateValueException(key, StateValueProblem.Overflow); }
            // In place: the expiry and the entry's place in the eviction order stay as they were.
            var previous = entry.Value;
            entry.Value = StateInteger.Format(sum);
            _observer?.Stored(key, entry.Value, entry.ExpiresAt, previous);
            return sum;
        }

        public bool Remove(string key, long now)
        {
            var entry = Live(key, now);
            if (entry == null) return false;
            Drop(entry, StateDrop.Removed);
            return true;
        }

        public List<StateEntry> List(string prefix, int limit, long now)
        {
            var found = new List<StateEntry>();
            foreach (var entry in _entries.Values)
            {
                if (entry.ExpiresAt <= now || !entry.Key.StartsWith(prefix, StringComparison.Ordinal)) continue;
                found.Add(new StateEntry(entry.Key, entry.Value, entry.ExpiresAt == Never ? (TimeSpan?)null : TimeSpan.FromTicks(entry.ExpiresAt - now)));
                if (found.Count == limit) break;
            }
            return found;
        }

        /// <summary>Every entry live at <paramref name="now"/>, oldest write first within the
        /// expiry order, so that loading them back in this order rebuilds the same order.</summary>
        public List<KeyValuePair<string, StateRecord>> CopyLive(long now)
        {
            var live = new List<KeyValuePair<string, StateRecord>>(_entries.Count);
            foreach (var entry in _byExpiry)
                if (entry.ExpiresAt > now)
                    live.Add(new KeyValuePair<string, StateRecord>(entry.Key, new StateRecord(entry.Value, entry.ExpiresAt)));
            return live;
        }

        /// <summary>Drops up to <paramref name="max"/> expired entries from the front of the order,
        /// for a store that sweeps now and then instead of waiting for each key to be touched.</summary>
        /// <returns>How many went.</returns>
        public int SweepExpired(long now, int max)
        {
            int dropped = 0;
            for (var first = _byExpiry.Min; first != null && first.ExpiresAt <= now && dropped < max; first = _byExpiry.Min)
            {
                Drop(first, StateDrop.Expired);
                dropped++;
            }
            return dropped;
        }

        /// <summary>Replays one journaled result: the key now holds this value until this time. An
        /// entry already there with the same expiry keeps its place in the order, as the in-place
        /// increment that wrote the record did; one already expired is removed.</summary>
        public void Load(string key, string value, long expiresAt, long now)
        {
            if (expiresAt <= now)
            {
                Unload(key);
                return;
            }
            if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt == expiresAt)
            {
                var previous = entry.Value;
                entry.Value = value;
                _observer?.Stored(key, value, expiresAt, previous);
                return;
            }
            Put(key, value, expiresAt, now);
        }

        /// <summary>Replays one journaled removal.</summary>
        public void Unload(string key)
        {
            if (_entries.TryGetValue(key, out var entry)) Drop(entry, StateDrop.Removed);
        }

        // The entry under key if it has not expired; an expired one is dropped on the way.
        Entry Live(string key, long now)
        {
            if (!_entries.TryGetValue(key, out var entry)) return null;
            if (entry.ExpiresAt > now) return entry;
            Drop(entry, StateDrop.Expired);
            return null;
        }

        // After Live(key) said there is no live entry, or to replace the one there.
        void Put(string key, string value, long expiresAt, long now)
        {
            string previous = null;
            if (_entries.TryGetValue(key, out var entry))
            {
                _byExpiry.Remove(entry);   // re-added below: its place in the order changes with the expiry
                previous = entry.Value;
            }
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
            _observer?.Stored(key, value, expiresAt, previous);
        }

        void MakeRoom(long now)
        {
            if (_entries.Count < MaxEntries) return;
            bool swept = false;
            for (var first = _byExpiry.Min; first != null && first.ExpiresAt <= now; first = _byExpiry.Min)
            {
                Drop(first, StateDrop.Expired);
                swept = true;
            }
            if (!swept) Drop(_byExpiry.Min, StateDrop.Evicted);
        }

        void Drop(Entry entry, StateDrop why)
        {
            _byExpiry.Remove(entry);
            _entries.Remove(entry.Key);
            _observer?.Dropped(entry.Key, entry.Value, why);
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

    /// <summary>A value and its absolute expiry (UTC ticks, <see cref="StateTable.Never"/> for none).</summary>
    internal readonly struct StateRecord
    {
        public StateRecord(string value, long expiresAt) { Value = value; ExpiresAt = expiresAt; }
        public string Value { get; }
        public long ExpiresAt { get; }
    }

    /// <summary>Why an entry left the table.</summary>
    internal enum StateDrop
    {
        /// <summary>A caller removed it. Must be journaled.</summary>
        Removed,
        /// <summary>The bound pushed it out before its expiry. Must be journaled.</summary>
        Evicted,
        /// <summary>Its expiry passed; a replay drops it anyway, so nothing need be written.</summary>
        Expired,
    }

    /// <summary>Told of each change to a <see cref="StateTable"/>, under the caller's lock, in order.</summary>
    internal interface IStateTableObserver
    {
        /// <summary>The key now holds this value until this time; <paramref name="previous"/> is the
        /// value it replaced, null when the key is new.</summary>
        void Stored(string key, string value, long expiresAt, string previous);

        void Dropped(string key, string value, StateDrop why);
    }
}
