using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Asks a client's other DNSBLs as soon as the rules ask one of them about it, so that rules
    /// which test several lists in turn wait for one round trip, not one per list. It sits under
    /// the sessions' fact recorders and over the proxy's answer cache: the rules still ask each
    /// list only when a line reaches it, and those questions are recorded as before (they find
    /// the answer in the cache, or join the question in flight), so the evidence and a replay do
    /// not change.
    /// </summary>
    /// <remarks>
    /// Only a client the rules have already asked one list about is asked of the others, and
    /// only of the healthy lists the rules test against clients (<c>RBL.</c> in a source list, a
    /// score's lists): a client an earlier line let through is asked of none, as before. One
    /// client's companions are asked at most once in <see cref="Remember"/>.
    /// </remarks>
    internal sealed class DnsblCompanionResolver : IDnsResolver
    {
        static readonly long Remember = Stopwatch.Frequency * 30;   // 30 s
        const int MaxRemembered = 4096;

        readonly IDnsResolver _inner;
        readonly Func<IReadOnlyList<string>> _zones;
        readonly ConcurrentDictionary<string, long> _asked = new ConcurrentDictionary<string, long>(StringComparer.OrdinalIgnoreCase);

        /// <param name="inner">The cache the questions go to.</param>
        /// <param name="zones">The healthy zones the rules in force test clients against, without a trailing dot.</param>
        public DnsblCompanionResolver(IDnsResolver inner, Func<IReadOnlyList<string>> zones)
        {
            _inner = inner ?? throw new ArgumentNullException(nameof(inner));
            _zones = zones ?? throw new ArgumentNullException(nameof(zones));
        }

        public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
        {
            var answer = _inner.QueryAsync(name, type, cancellationToken);
            if (type == DnsRecordType.A && name != null) AskCompanions(name);
            return answer;
        }

        void AskCompanions(string name)
        {
            var zones = _zones();
            if (zones.Count < 2) return;
            var trimmed = name.EndsWith(".", StringComparison.Ordinal) ? name.Substring(0, name.Length - 1) : name;
            string asked = null, client = null;
            foreach (var zone in zones)
            {
                if (!InZone(trimmed, zone)) continue;
                asked = zone;
                client = trimmed.Substring(0, trimmed.Length - zone.Length - 1);
                break;
            }
            if (client == null || !IsReversedAddress(client)) return;
            var now = Stopwatch.GetTimestamp();
            if (_asked.TryGetValue(client, out var at) && now - at < Remember) return;
            if (_asked.Count >= MaxRemembered) _asked.Clear();
            _asked[client] = now;
            foreach (var zone in zones)
                if (!string.Equals(zone, asked, StringComparison.OrdinalIgnoreCase))
                    Observe(_inner.QueryAsync(client + "." + zone, DnsRecordType.A, CancellationToken.None));
        }

        static bool InZone(string name, string zone) =>
            name.Length > zone.Length + 1 && name[name.Length - zone.Length - 1] == '.'
            && name.EndsWith(zone, StringComparison.OrdinalIgnoreCase);

        // A reversed IPv4 address (4 decimal labels) or IPv6 address (32 hex nibbles): a name
        // the rules made of a client's address, not a name server's host name or anything else.
        static bool IsReversedAddress(string labels)
        {
            var parts = labels.Split('.');
            if (parts.Length == 4)
            {
                foreach (var p in parts)
                    if (p.Length == 0 || p.Length > 3 || !AllDigits(p)) return false;
                return true;
            }
            if (parts.Length != 32) return false;
            foreach (var p in parts)
                if (p.Length != 1 || !Uri.IsHexDigit(p[0])) return false;
            return true;
        }

        static bool AllDigits(string s)
        {
            foreach (var c in s)
                if (c < '0' || c > '9') return false;
            return true;
        }

        // Nobody waits for a companion; its answer waits in the cache, its failure is the rules'
        // own question's to meet.
        static void Observe(Task<DnsAnswer> task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
