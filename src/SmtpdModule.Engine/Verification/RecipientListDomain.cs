using System.Collections.Generic;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// The entries of one domain: exact local parts in hash tables (O(1)), wildcards and the
    /// catch-all in file order. Negative entries are asked first, so <c>!boss@example.org</c> wins
    /// over <c>@example.org</c> wherever the lines stand. Built once by the parser, never changed.
    /// </summary>
    internal sealed class RecipientListDomain
    {
        readonly Dictionary<string, RecipientListEntry> _exact = new Dictionary<string, RecipientListEntry>(RecipientListAddress.Comparer);
        readonly Dictionary<string, RecipientListEntry> _refused = new Dictionary<string, RecipientListEntry>(RecipientListAddress.Comparer);
        readonly List<RecipientListEntry> _patterns = new List<RecipientListEntry>();
        readonly List<RecipientListEntry> _refusedPatterns = new List<RecipientListEntry>();

        /// <summary>Parser only. A repeated exact entry keeps its first line, the one an answer names.</summary>
        internal void Add(RecipientListEntry entry)
        {
            bool wildcard = entry.MatchesAll || entry.Pattern != null;
            if (wildcard) (entry.Negative ? _refusedPatterns : _patterns).Add(entry);
            else
            {
                var table = entry.Negative ? _refused : _exact;
                if (!table.ContainsKey(entry.Local)) table.Add(entry.Local, entry);
            }
        }

        /// <summary>The entry that decides <paramref name="local"/> (NFC), or null when none matches.</summary>
        internal RecipientListEntry Find(string local)
        {
            if (_refused.TryGetValue(local, out var entry)) return entry;
            foreach (var e in _refusedPatterns)
                if (e.IsMatch(local)) return e;
            if (_exact.TryGetValue(local, out entry)) return entry;
            foreach (var e in _patterns)
                if (e.IsMatch(local)) return e;
            return null;
        }
    }
}
