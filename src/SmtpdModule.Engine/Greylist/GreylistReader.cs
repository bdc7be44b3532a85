using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>
    /// Greylisting's state as an administrator sees it: the entries of any state store (the
    /// embedded one of a proxy, or a Redis that several share), filtered, in pages, and removal by
    /// key. What Get-/Remove-SmtpdGreylistEntry and a running proxy's control channel use; never on
    /// a session's path (a listing reads every greylist key).
    /// </summary>
    /// <remarks>Removing a triplet makes its next try a first try again; removing an auto-allow
    /// count greylists the client again; removing a trap lets the address in at once.</remarks>
    public sealed class GreylistReader
    {
        /// <summary>The most greylist keys one listing reads from the store; past it a page says <see cref="GreylistPage.Incomplete"/>.</summary>
        public const int ScanLimit = 100_000;

        readonly IStateStore _store;
        readonly GreylistOptions _options;
        readonly ISystemClock _clock;

        /// <param name="store">The store the proxy keeps greylisting in.</param>
        /// <param name="options">The proxy's prefix lengths and auto-allow threshold (null: the defaults), so triplets show their identity and counts their state.</param>
        /// <param name="clock">What the expiry times are measured from (null: the machine's clock).</param>
        public GreylistReader(IStateStore store, GreylistOptions options = null, ISystemClock clock = null)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _options = options ?? new GreylistOptions();
            _clock = clock ?? SystemClock.Instance;
        }

        /// <summary>The entries that match <paramref name="filter"/>, ordered by key, from <paramref name="offset"/>, at most <paramref name="count"/>.
        /// Keys whose value greylisting did not write are left out.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="filter"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or <paramref name="count"/> less than 1.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        /// <remarks>The store's own failures (Redis unreachable) pass through as the store throws them.</remarks>
        public async Task<GreylistPage> ListAsync(GreylistFilter filter, int offset, int count, CancellationToken cancellationToken = default)
        {
            if (filter == null) throw new ArgumentNullException(nameof(filter));
            if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset), offset, "The offset cannot be negative.");
            if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "A page holds at least one entry.");
            var raw = await _store.ListAsync(GreylistCheck.KeyPrefix, ScanLimit, cancellationToken).ConfigureAwait(false);
            var now = _clock.UtcNow;
            var matched = new List<GreylistEntry>();
            foreach (var e in raw)
            {
                var expires = e.TimeToLive == null ? (DateTimeOffset?)null : now + e.TimeToLive.Value;
                if (GreylistEntry.TryParse(e.Key, e.Value, expires, _options, out var entry) && filter.Matches(entry)) matched.Add(entry);
            }
            // The store lists in no set order: key order makes pages of one listing line up.
            matched.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            var page = new List<GreylistEntry>();
            for (int i = offset; i < matched.Count && page.Count < count; i++) page.Add(matched[i]);
            return new GreylistPage(page, offset, matched.Count, raw.Count >= ScanLimit);
        }

        /// <summary>Removes the entry under <paramref name="key"/>.</summary>
        /// <returns>True when it was there; false when it had gone (expired, removed by another).</returns>
        /// <exception cref="ArgumentException"><paramref name="key"/> is not a greylist key: the store holds other state this must not touch.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
        {
            if (!IsGreylistKey(key)) throw new ArgumentException("'" + key + "' is not a greylist key (grey:t:, grey:a: or grey:trap:).", nameof(key));
            return _store.RemoveAsync(key, cancellationToken);
        }

        /// <summary>The key is one of greylisting's three kinds, with something after the kind.</summary>
        public static bool IsGreylistKey(string key) =>
            Has(key, GreylistCheck.KeyPrefix + "t:") || Has(key, GreylistCheck.KeyPrefix + "a:") || Has(key, GreylistCheck.KeyPrefix + "trap:");

        static bool Has(string key, string prefix) =>
            key != null && key.Length > prefix.Length && key.StartsWith(prefix, StringComparison.Ordinal);
    }
}
