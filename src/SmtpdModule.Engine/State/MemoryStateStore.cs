using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The embedded state store: one process, held in memory, gone on restart (greylisting then
    /// delays a returning sender once more, limits start a fresh window; neither loses mail).
    /// <see cref="FileStateStore"/> is the same index with a journal behind it.
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
    /// serves both steps: expired entries are exactly those at its front (<see cref="StateTable"/>).</para>
    /// <para>The bound is on entries, not bytes; keys and values are the short text the checks write.</para>
    /// </remarks>
    public sealed class MemoryStateStore : IStateStore
    {
        /// <summary>The bound when none is given.</summary>
        public const int DefaultMaxEntries = 100_000;

        readonly object _gate = new object();
        readonly StateTable _table;
        readonly ISystemClock _clock;

        /// <param name="maxEntries">The most entries held at once.</param>
        /// <param name="clock">The time expiry is measured by; null for the machine's clock.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxEntries"/> is less than 1.</exception>
        public MemoryStateStore(int maxEntries = DefaultMaxEntries, ISystemClock clock = null)
        {
            if (maxEntries < 1) throw new ArgumentOutOfRangeException(nameof(maxEntries), maxEntries, "at least one entry");
            _table = new StateTable(maxEntries);
            _clock = clock ?? SystemClock.Instance;
        }

        /// <summary>The most entries held at once.</summary>
        public int MaxEntries => _table.MaxEntries;

        /// <summary>Entries held now, counting expired ones not yet dropped; never above <see cref="MaxEntries"/>.</summary>
        public int Count { get { lock (_gate) return _table.Count; } }

        public Task<string> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<string>(cancellationToken);
            lock (_gate)
                return Task.FromResult(_table.Get(key, Now()));
        }

        public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            StateArguments.CheckValue(value);
            if (ttl != null) StateArguments.CheckTtl(ttl.Value, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                _table.Set(key, value, ttl == null ? StateTable.Never : StateTable.ExpiryOf(now, ttl.Value), now);
            }
            return Task.CompletedTask;
        }

        public Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            StateArguments.CheckValue(value);
            StateArguments.CheckTtl(ttl, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                return Task.FromResult(_table.SetIfAbsent(key, value, StateTable.ExpiryOf(now, ttl), now));
            }
        }

        public Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            StateArguments.CheckTtl(ttlOnCreate, nameof(ttlOnCreate));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<long>(cancellationToken);
            lock (_gate)
            {
                long now = Now();
                try { return Task.FromResult(_table.Increment(key, delta, StateTable.ExpiryOf(now, ttlOnCreate), now)); }
                catch (StateValueException ex) { return Task.FromException<long>(ex); }
            }
        }

        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
                return Task.FromResult(_table.Remove(key, Now()));
        }

        public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckList(prefix, limit);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<IReadOnlyList<StateEntry>>(cancellationToken);
            lock (_gate)
                return Task.FromResult<IReadOnlyList<StateEntry>>(_table.List(prefix, limit, Now()));
        }

        long Now() => _clock.UtcNow.UtcTicks;
    }
}
