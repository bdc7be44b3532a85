using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// Exact counts by key, for a report's top lists. A day of a busy proxy's refusals can name
    /// millions of clients: past <see cref="MaxKeys"/> distinct keys a new key is counted under
    /// <see cref="Others"/>, so memory stays bounded and the counts shown stay exact.
    /// </summary>
    internal sealed class TopCounts
    {
        public const int MaxKeys = 250000;
        readonly Dictionary<string, Entry> _counts;

        sealed class Entry { public long Count; public string Detail; }

        public TopCounts(StringComparer comparer = null) { _counts = new Dictionary<string, Entry>(comparer ?? StringComparer.Ordinal); }

        /// <summary>Counts not shown by key because the table was full.</summary>
        public long Others { get; private set; }

        public void Add(string key, string detail = null, long n = 1)
        {
            if (key == null) return;
            if (!_counts.TryGetValue(key, out var e))
            {
                if (_counts.Count >= MaxKeys) { Others += n; return; }
                _counts[key] = e = new Entry();
            }
            e.Count += n;
            if (detail != null) e.Detail = detail;
        }

        /// <summary>The <paramref name="top"/> largest, largest first, ties by key.</summary>
        public IReadOnlyList<ReportCount> Top(int top) =>
            _counts.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Key, StringComparer.Ordinal).Take(top)
                   .Select(kv => new ReportCount(kv.Key, kv.Value.Detail, kv.Value.Count)).ToList();

        public IReadOnlyList<ReportCount> All => Top(int.MaxValue);
    }
}
