using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Answers shared by every session of a proxy, each kept for the TTL it came with (RFC 1035
    /// §3.2.1; a negative answer for its SOA's negative TTL, RFC 2308 §5), at most
    /// <see cref="MaxTimeToLive"/>, and at most <see cref="Capacity"/> of them: a busy proxy does not
    /// ask the same DNSBL question for every connection of the same client. Identical questions in
    /// flight at once share one query. Failures are never kept: the next session asks again.
    /// </summary>
    /// <remarks>
    /// DnsClient's own cache (LookupClient.UseCache) is not used: it has no bound on its size, and
    /// a proxy that every address on the Internet may connect to needs one. When full, expired
    /// answers go first, then the eighth that expires soonest.
    /// </remarks>
    public sealed class DnsCache : IDnsResolver
    {
        /// <summary>The default bound on kept answers.</summary>
        public const int DefaultCapacity = 10000;
        /// <summary>No answer is kept longer than an hour, whatever its TTL says.</summary>
        public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromHours(1);

        readonly IDnsResolver _inner;
        readonly Func<long> _nowMs;
        readonly object _gate = new object();
        readonly Dictionary<string, Entry> _answers = new Dictionary<string, Entry>(StringComparer.Ordinal);
        readonly Dictionary<string, Task<DnsAnswer>> _inFlight = new Dictionary<string, Task<DnsAnswer>>(StringComparer.Ordinal);
        long _hits, _misses;

        /// <param name="inner">Asked on a miss.</param>
        /// <param name="capacity">Answers kept at most (at least 1).</param>
        /// <param name="nowMs">A monotonic clock in milliseconds (tests); null for the system's.</param>
        /// <exception cref="ArgumentNullException"><paramref name="inner"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1.</exception>
        public DnsCache(IDnsResolver inner, int capacity = DefaultCapacity, Func<long> nowMs = null)
        {
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
            if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "must be at least 1");
            Capacity = capacity;
            var clock = Stopwatch.StartNew();
            _nowMs = nowMs ?? (() => clock.ElapsedMilliseconds);
        }

        public int Capacity { get; }
        /// <summary>Answers kept now (expired ones included until they are swept).</summary>
        public int Count { get { lock (_gate) return _answers.Count; } }
        /// <summary>Questions answered from the cache (or by joining a query in flight).</summary>
        public long Hits => Interlocked.Read(ref _hits);
        /// <summary>Questions that were sent to the DNS.</summary>
        public long Misses => Interlocked.Read(ref _misses);

        /// <summary>The kept answer, its TTL lowered by the time it was kept; or the inner resolver's.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            if (name == null) throw new ArgumentNullException(nameof(name));
            var key = (int)type + " " + name.TrimEnd('.').ToLowerInvariant();
            Task<DnsAnswer> flight;
            lock (_gate)
            {
                var now = _nowMs();
                if (_answers.TryGetValue(key, out var e))
                {
                    if (e.ExpiresMs > now)
                    {
                        Interlocked.Increment(ref _hits);
                        return Task.FromResult(e.Answer.WithTimeToLive((int)Math.Max(0, (e.ExpiresMs - now) / 1000)));
                    }
                    _answers.Remove(key);
                }
                if (_inFlight.TryGetValue(key, out flight)) Interlocked.Increment(ref _hits);
                else
                {
                    Interlocked.Increment(ref _misses);
                    // Not cancelled by the first asker: others may be waiting on the same query, and the
                    // resolver's own timeout bounds it.
                    flight = AskAsync(key, name, type);
                    _inFlight[key] = flight;
                }
            }
            return WaitAsync(flight, cancellationToken);
        }

        async Task<DnsAnswer> AskAsync(string key, string name, DnsRecordType type)
        {
            await Task.Yield();   // the caller registers the flight before it can finish
            DnsAnswer answer;
            try { answer = await _inner.QueryAsync(name, type, CancellationToken.None).ConfigureAwait(false); }
            catch (Exception ex) when (!(ex is OutOfMemoryException)) { answer = DnsAnswer.Failed(ex.Message); }
            lock (_gate)
            {
                _inFlight.Remove(key);
                if (answer.Status != DnsStatus.Failed && answer.TimeToLive > 0)
                {
                    if (_answers.Count >= Capacity) MakeRoom();
                    var ttlMs = Math.Min((long)answer.TimeToLive.Value * 1000, (long)MaxTimeToLive.TotalMilliseconds);
                    _answers[key] = new Entry(answer, _nowMs() + ttlMs);
                }
            }
            return answer;
        }

        static async Task<DnsAnswer> WaitAsync(Task<DnsAnswer> flight, CancellationToken cancellationToken)
        {
            if (flight.IsCompleted || !cancellationToken.CanBeCanceled) return await flight.ConfigureAwait(false);
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (cancellationToken.Register(() => cancelled.TrySetResult(true)))
                if (await Task.WhenAny(flight, cancelled.Task).ConfigureAwait(false) != flight)
                    throw new OperationCanceledException(cancellationToken);
            return await flight.ConfigureAwait(false);
        }

        void MakeRoom()
        {
            var now = _nowMs();
            foreach (var k in _answers.Where(kv => kv.Value.ExpiresMs <= now).Select(kv => kv.Key).ToArray()) _answers.Remove(k);
            if (_answers.Count < Capacity) return;
            var drop = Math.Max(1, _answers.Count / 8);
            foreach (var k in _answers.OrderBy(kv => kv.Value.ExpiresMs).Take(drop).Select(kv => kv.Key).ToArray()) _answers.Remove(k);
        }

        readonly struct Entry
        {
            public Entry(DnsAnswer answer, long expiresMs) { Answer = answer; ExpiresMs = expiresMs; }
            public DnsAnswer Answer { get; }
            public long ExpiresMs { get; }
        }
    }
}
