using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Narrows the rules a transaction can possibly match while keeping first-match order.
    /// Each rule is filed under one list whose positive tokens are all literal (IPv4/IPv6
    /// networks and literal names for the source list; literal addresses and literal domains
    /// for the from and to lists); everything else stays in the always-tried set. A rule is
    /// filed under the from or to list only when the lists evaluated before it cannot cause DNS
    /// or ident traffic, so skipping a rule is never observable. Candidates from all buckets
    /// are merged in ascending rule order.
    /// </summary>
    internal sealed class RuleIndex
    {
        readonly int[] _always;
        readonly List<KeyValuePair<int, Dictionary<uint, int[]>>> _v4 = new List<KeyValuePair<int, Dictionary<uint, int[]>>>();
        readonly List<KeyValuePair<int, Dictionary<(ulong, ulong), int[]>>> _v6 = new List<KeyValuePair<int, Dictionary<(ulong, ulong), int[]>>>();
        readonly Dictionary<string, int[]> _sourceNames, _fromWhole, _fromDomain, _toWhole, _toDomain;

        public RuleIndex(IReadOnlyList<Rule> rules)
        {
            var always = new List<int>();
            var v4 = new Dictionary<int, Dictionary<uint, List<int>>>();
            var v6 = new Dictionary<int, Dictionary<(ulong, ulong), List<int>>>();
            var names = NewBucket(); var fromWhole = NewBucket(); var fromDomain = NewBucket(); var toWhole = NewBucket(); var toDomain = NewBucket();

            foreach (var r in rules)
            {
                if (IsSourceIndexable(r.Source))
                {
                    foreach (SourceToken t in r.Source.Positive)
                    {
                        var ip = t.Host.Address;
                        if (ip.Kind == IpPattern.PatternKind.Masked && !ip.IsIPv6)
                            Add(Get(v4, ip.PrefixLength), ToUInt(ip.Network.GetAddressBytes()), r.Index);
                        else if (ip.Kind == IpPattern.PatternKind.Masked)
                            Add(Get(v6, ip.PrefixLength), ToPair(ip.Network.GetAddressBytes()), r.Index);
                        if (t.Host.Name.IsLiteral) Add(names, t.Host.Name.Text, r.Index);
                    }
                }
                else if (r.Source.IsPure && IsAddressIndexable(r.From))
                    FileAddress(r.From, r.Index, fromWhole, fromDomain);
                else if (r.Source.IsPure && r.From.IsPure && IsAddressIndexable(r.To))
                    FileAddress(r.To, r.Index, toWhole, toDomain);
                else
                    always.Add(r.Index);
            }

            _always = always.ToArray();
            foreach (var kv in v4.OrderBy(k => k.Key))
                _v4.Add(new KeyValuePair<int, Dictionary<uint, int[]>>(kv.Key, kv.Value.ToDictionary(x => x.Key, x => Sorted(x.Value))));
            foreach (var kv in v6.OrderBy(k => k.Key))
                _v6.Add(new KeyValuePair<int, Dictionary<(ulong, ulong), int[]>>(kv.Key, kv.Value.ToDictionary(x => x.Key, x => Sorted(x.Value))));
            _sourceNames = Freeze(names); _fromWhole = Freeze(fromWhole); _fromDomain = Freeze(fromDomain);
            _toWhole = Freeze(toWhole); _toDomain = Freeze(toDomain);
            IndexedCount = rules.Count - _always.Length;
        }

        /// <summary>How many rules are reached through a bucket rather than tried for every check.</summary>
        public int IndexedCount { get; }

        static Dictionary<string, List<int>> NewBucket() => new Dictionary<string, List<int>>(StringComparer.OrdinalIgnoreCase);

        static Dictionary<string, int[]> Freeze(Dictionary<string, List<int>> d) =>
            d.ToDictionary(x => x.Key, x => Sorted(x.Value), StringComparer.OrdinalIgnoreCase);

        /// <summary>Rules are filed in ascending order, so only adjacent repeats need dropping.</summary>
        static int[] Sorted(List<int> l)
        {
            int n = 1;
            for (int i = 1; i < l.Count; i++) if (l[i] != l[i - 1]) n++;
            var a = new int[n];
            a[0] = l[0];
            for (int i = 1, j = 1; i < l.Count; i++) if (l[i] != l[i - 1]) a[j++] = l[i];
            return a;
        }

        static Dictionary<TK, List<int>> Get<TK>(Dictionary<int, Dictionary<TK, List<int>>> byPrefix, int prefix)
        {
            if (!byPrefix.TryGetValue(prefix, out var d)) byPrefix[prefix] = d = new Dictionary<TK, List<int>>();
            return d;
        }

        static void Add<TK>(Dictionary<TK, List<int>> d, TK key, int index)
        {
            if (!d.TryGetValue(key, out var l)) d[key] = l = new List<int>();
            l.Add(index);
        }

        static uint ToUInt(byte[] b) => (uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);

        static (ulong, ulong) ToPair(byte[] b)
        {
            ulong hi = 0, lo = 0;
            for (int i = 0; i < 8; i++) { hi = hi << 8 | b[i]; lo = lo << 8 | b[i + 8]; }
            return (hi, lo);
        }

        /// <summary>Every positive token is a plain host token whose match implies the peer is in a
        /// listed network, or its name or address text equals the token.</summary>
        static bool IsSourceIndexable(RuleList list)
        {
            if (list.Positive.Length == 0) return false;
            foreach (SourceToken t in list.Positive)
            {
                if (t.HasUser || t.IsProtocolTest || t.IsScore || t.Host.Kind != HostPattern.PatternKind.General || t.Host.Name.IsRegex || !t.Host.Name.IsLiteral) return false;
                var k = t.Host.Address.Kind;
                if (k != IpPattern.PatternKind.Masked && k != IpPattern.PatternKind.Never && k != IpPattern.PatternKind.Glob) return false;
            }
            return true;
        }

        static bool IsAddressIndexable(RuleList list)
        {
            if (list.Positive.Length == 0) return false;
            foreach (AddressToken t in list.Positive)
            {
                if (t.Kind == AddressToken.TokenKind.Whole && t.Whole.IsLiteral) continue;
                if (t.Kind == AddressToken.TokenKind.LocalAndDomain && t.Domain != null && t.Domain.IsLiteral) continue;
                return false;
            }
            return true;
        }

        static void FileAddress(RuleList list, int index, Dictionary<string, List<int>> whole, Dictionary<string, List<int>> domain)
        {
            foreach (AddressToken t in list.Positive)
            {
                if (t.Kind == AddressToken.TokenKind.Whole) Add(whole, t.Whole.Text, index);
                // A literal local part too: the token matches exactly one address (both sides split
                // at their last '@'), so it is filed under that address, not under a domain that
                // thousands of such lines may share.
                else if (t.Local != null && t.Local.IsLiteral) Add(whole, t.Text, index);
                else Add(domain, t.Domain.Text, index);
            }
        }

        /// <summary>Collects the candidate buckets for <paramref name="input"/> into <paramref name="cursor"/>.</summary>
        public void Collect(RuleInput input, ref CandidateCursor cursor)
        {
            cursor.Add(_always);
            var peer = input.Client;
            if (!peer.IsIPv6)
            {
                uint a = peer.IPv4;
                foreach (var kv in _v4)
                {
                    uint mask = kv.Key == 0 ? 0u : uint.MaxValue << (32 - kv.Key);
                    if (kv.Value.TryGetValue(a & mask, out var hit)) cursor.Add(hit);
                }
            }
            else if (_v6.Count > 0)
            {
                var (hi, lo) = peer.IPv6Pair;
                foreach (var kv in _v6)
                {
                    int p = kv.Key;
                    ulong mh = p == 0 ? 0 : p >= 64 ? ulong.MaxValue : ulong.MaxValue << (64 - p);
                    ulong ml = p <= 64 ? 0 : p == 128 ? ulong.MaxValue : ulong.MaxValue << (128 - p);
                    if (kv.Value.TryGetValue((hi & mh, lo & ml), out var hit)) cursor.Add(hit);
                }
            }
            if (_sourceNames.Count > 0)
            {
                if (input.ClientName != null && _sourceNames.TryGetValue(input.ClientName, out var n)) cursor.Add(n);
                if (_sourceNames.TryGetValue(peer.Text, out var t)) cursor.Add(t);
            }
            AddAddress(input.From, _fromWhole, _fromDomain, ref cursor);
            AddAddress(input.To, _toWhole, _toDomain, ref cursor);
        }

        static void AddAddress(MailboxText m, Dictionary<string, int[]> whole, Dictionary<string, int[]> domain, ref CandidateCursor cursor)
        {
            if (whole.Count > 0 && whole.TryGetValue(m.Address, out var w)) cursor.Add(w);
            if (domain.Count > 0 && m.Domain != null && domain.TryGetValue(m.Domain, out var d)) cursor.Add(d);
        }
    }

    /// <summary>
    /// A k-way merge over sorted rule-index arrays, kept in per-thread scratch so a check
    /// allocates nothing.
    /// </summary>
    internal struct CandidateCursor
    {
        [ThreadStatic] static int[][] t_arrays;
        [ThreadStatic] static int[] t_positions;

        int[][] _arrays;
        int[] _positions;
        int _count;
        int _last;

        public static CandidateCursor Create()
        {
            var c = new CandidateCursor();
            c._arrays = t_arrays ?? (t_arrays = new int[64][]);
            c._positions = t_positions ?? (t_positions = new int[64]);
            c._count = 0;
            c._last = -1;
            return c;
        }

        public void Add(int[] sorted)
        {
            if (sorted.Length == 0) return;
            if (_count == _arrays.Length)
            {
                Array.Resize(ref _arrays, _count * 2);
                Array.Resize(ref _positions, _count * 2);
                t_arrays = _arrays;
                t_positions = _positions;
            }
            _arrays[_count] = sorted;
            _positions[_count] = 0;
            _count++;
        }

        /// <summary>The candidate lists added so far, into <paramref name="lists"/> (made or grown as needed); their count.</summary>
        public int CopyTo(ref int[][] lists)
        {
            if (lists == null || lists.Length < _count) lists = new int[Math.Max(_count, 4)][];
            Array.Copy(_arrays, lists, _count);
            for (int i = _count; i < lists.Length; i++) lists[i] = null;
            return _count;
        }

        /// <summary>The next rule index in ascending order (duplicates across buckets skipped), or -1.</summary>
        public int Next()
        {
            while (true)
            {
                int best = -1, bestValue = int.MaxValue;
                for (int i = 0; i < _count; i++)
                {
                    var arr = _arrays[i];
                    int p = _positions[i];
                    if (p < arr.Length && arr[p] < bestValue) { bestValue = arr[p]; best = i; }
                }
                if (best < 0) return -1;
                _positions[best]++;
                if (bestValue <= _last) continue;
                _last = bestValue;
                return bestValue;
            }
        }

        public void Clear()
        {
            for (int i = 0; i < _count; i++) _arrays[i] = null;
            _count = 0;
        }
    }
}
