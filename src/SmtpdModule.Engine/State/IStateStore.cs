using System;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The shared state behind greylisting, pass caches and rate limits: short-lived keys with
    /// string values. Embedded by default (<see cref="MemoryStateStore"/>); a Redis store takes its
    /// place when several proxies must agree. The spool never lives here.
    /// </summary>
    /// <remarks>
    /// <para>Each method is one Redis command (or one MULTI), so the two stores cannot drift in
    /// meaning: <see cref="GetAsync"/> is GET, <see cref="SetAsync"/> SET key value [PX ttl],
    /// <see cref="SetIfAbsentAsync"/> SET key value NX PX ttl, <see cref="IncrementAsync"/>
    /// MULTI; SET key 0 NX PX ttl; INCRBY key delta; EXEC (the SET creates the key with its expiry
    /// only if absent, INCRBY keeps whatever expiry the key has), <see cref="RemoveAsync"/> DEL.</para>
    /// <para>Values are strings, not byte[]: what checks keep is small text (counters, timestamps,
    /// a verdict), a read is recorded as a policy fact, whose values are strings, and written
    /// to a JSON log, and Redis's INCRBY works on the decimal text of a number anyway.</para>
    /// <para>A TTL is a lifetime from now; it must be positive (Redis refuses PX 0). Redis keeps
    /// whole milliseconds, so a Redis store rounds a TTL up to the next one.</para>
    /// </remarks>
    public interface IStateStore
    {
        /// <summary>The value under <paramref name="key"/>, or null when there is none or it expired.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<string> GetAsync(string key, CancellationToken cancellationToken = default);

        /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing any value and
        /// its expiry; with a null <paramref name="ttl"/> the key does not expire.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is zero or negative.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default);

        /// <summary>Stores <paramref name="value"/> under <paramref name="key"/> only if no live value is
        /// there. Of many callers racing on one key, exactly one gets true.</summary>
        /// <returns>True when this call stored the value.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="key"/> or <paramref name="value"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttl"/> is zero or negative.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default);

        /// <summary>Adds <paramref name="delta"/> to the integer under <paramref name="key"/>, atomically.
        /// A missing key counts as 0 and is created to expire after <paramref name="ttlOnCreate"/>; an
        /// existing key keeps its expiry, so a fixed-window counter's window is not extended by use.</summary>
        /// <returns>The value after the addition.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="ttlOnCreate"/> is zero or negative.</exception>
        /// <exception cref="StateValueException">The stored value is not an integer, or the sum overflows
        /// a 64-bit integer; the value is left as it was.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default);

        /// <summary>Removes <paramref name="key"/>.</summary>
        /// <returns>True when a live value was removed.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="key"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default);

        /// <summary>Live keys that start with <paramref name="prefix"/> (ordinal), with their values and
        /// remaining lifetimes, at most <paramref name="limit"/> of them, in no set order: for an admin's
        /// listing (Redis: SCAN MATCH with the prefix escaped, then GET and PTTL), never on a session's path.
        /// A key written or removed during the listing may or may not be in it.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="prefix"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        Task<System.Collections.Generic.IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default);
    }
}
