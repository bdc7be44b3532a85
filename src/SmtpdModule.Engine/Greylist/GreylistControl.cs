using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>
    /// The control channel's greylist requests, so an administrator sees and clears the state of
    /// a proxy that runs as a service, whatever its store:
    /// <c>greylist &lt;offset&gt; &lt;count&gt; [k=&lt;kinds&gt;] [c=&lt;client&gt;] [f=&lt;from&gt;] [t=&lt;to&gt;]</c>
    /// answers one page of entries (<see cref="GreylistReader"/>), and
    /// <c>greylist-remove &lt;key&gt;</c> removes one key.
    /// </summary>
    /// <remarks>
    /// <para>The request line is at most <see cref="ControlEndpoint.MaxRequest"/> bytes. Filter
    /// values are percent-escaped; a sender or recipient pattern that does not fit is left out of
    /// the request and applied by the caller to what comes back (<c>filterSentWhole</c> false), so
    /// the proxy narrows what it can and the caller's filter always has the last word.</para>
    /// <para>An answer stays under <see cref="AnswerBudget"/> bytes (the client reads at most 64 KiB):
    /// the proxy sends as many entries of the page as fit and says where the next page starts; the
    /// caller asks again from there. Each entry is sent as stored (key, expiry, value) and parsed
    /// again by the caller with the proxy's own prefix lengths and auto-allow threshold, so both ends
    /// read it with one parser.</para>
    /// </remarks>
    public static class GreylistControl
    {
        const string ListVerb = "greylist", RemoveVerb = "greylist-remove";
        /// <summary>The most entries one page may ask for.</summary>
        public const int MaxPage = 1000;
        /// <summary>The bytes of entries one answer carries at most.</summary>
        internal const int AnswerBudget = 48 * 1024;
        const string BadRequest = "error bad greylist request\n\n";

        /// <summary>The request for one page; <paramref name="filterSentWhole"/> is false when a pattern was too long to send.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative or <paramref name="count"/> not 1 to <see cref="MaxPage"/>.</exception>
        public static string ListRequest(GreylistFilter filter, int offset, int count, out bool filterSentWhole)
        {
            if (filter == null) throw new ArgumentNullException(nameof(filter));
            if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
            if (count < 1 || count > MaxPage) throw new ArgumentOutOfRangeException(nameof(count));
            var line = ListVerb + " " + offset.ToString(CultureInfo.InvariantCulture) + " " + count.ToString(CultureInfo.InvariantCulture);
            if (filter.Kinds.Count > 0) line += " k=" + string.Join(",", filter.Kinds);
            if (filter.Client != null) line += " c=" + Uri.EscapeDataString(filter.Client);
            filterSentWhole = true;
            foreach (var part in new[] { filter.From == null ? null : " f=" + Uri.EscapeDataString(filter.From.Text),
                                         filter.To == null ? null : " t=" + Uri.EscapeDataString(filter.To.Text) })
            {
                if (part == null) continue;
                if (line.Length + part.Length < ControlEndpoint.MaxRequest) line += part;
                else filterSentWhole = false;
            }
            return line;
        }

        /// <summary>The request that removes <paramref name="key"/>; false when the key is not a greylist key or does not fit on the line.</summary>
        public static bool TryRemoveRequest(string key, out string request)
        {
            request = null;
            if (!GreylistReader.IsGreylistKey(key) || !IsPlainAscii(key)) return false;
            request = RemoveVerb + " " + key;
            return request.Length < ControlEndpoint.MaxRequest;
        }

        /// <summary>The answer to a greylist request (an error answer for a malformed one); null when <paramref name="request"/> is another request.</summary>
        /// <param name="request">The request line.</param>
        /// <param name="store">The proxy's state store.</param>
        /// <param name="options">The proxy's greylisting options (prefix lengths, auto-allow threshold).</param>
        /// <remarks>The store's failures pass through: the endpoint answers them as errors.</remarks>
        /// <param name="clock">What expiry times are measured from; null: the machine's clock.</param>
        public static async Task<string> AnswerAsync(string request, IStateStore store, GreylistOptions options, ISystemClock clock = null, CancellationToken cancellationToken = default)
        {
            if (request == null || store == null) return null;
            var parts = request.Split(' ');
            if (parts[0] == RemoveVerb)
            {
                if (parts.Length != 2 || !GreylistReader.IsGreylistKey(parts[1]) || !IsPlainAscii(parts[1])) return BadRequest;
                var removed = await new GreylistReader(store, options, clock).RemoveAsync(parts[1], cancellationToken).ConfigureAwait(false);
                var fields = new ControlFields();
                fields.Add("removed", removed ? 1 : 0);
                return fields.ToWire();
            }
            if (parts[0] != ListVerb) return null;
            if (!TryParseList(parts, out var filter, out int offset, out int count)) return BadRequest;
            var page = await new GreylistReader(store, options, clock).ListAsync(filter, offset, count, cancellationToken).ConfigureAwait(false);
            return PageFields(page, options ?? new GreylistOptions()).ToWire();
        }

        static bool TryParseList(string[] parts, out GreylistFilter filter, out int offset, out int count)
        {
            filter = null;
            offset = count = 0;
            if (parts.Length < 3
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out offset)
                || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out count)
                || count < 1 || count > MaxPage)
                return false;
            string client = null, from = null, to = null;
            var kinds = new List<GreylistEntryKind>();
            for (int i = 3; i < parts.Length; i++)
            {
                var p = parts[i];
                if (p.Length < 2 || p[1] != '=') return false;
                var value = Uri.UnescapeDataString(p.Substring(2));
                switch (p[0])
                {
                    case 'k':
                        foreach (var k in value.Split(','))
                        {
                            if (!Enum.TryParse<GreylistEntryKind>(k, false, out var kind) || !Enum.IsDefined(typeof(GreylistEntryKind), kind)) return false;
                            kinds.Add(kind);
                        }
                        break;
                    case 'c': client = value; break;
                    case 'f': from = value; break;
                    case 't': to = value; break;
                    default: return false;
                }
            }
            return GreylistFilter.TryCreate(client, from, to, kinds, out filter, out _);
        }

        static ControlFields PageFields(GreylistPage page, GreylistOptions options)
        {
            var fields = new ControlFields();
            fields.Add("total", page.Total);
            fields.Add("offset", page.Offset);
            fields.Add("incomplete", page.Incomplete ? 1 : 0);
            fields.Add("autoAllowAfter", options.AutoAllowAfter);
            fields.Add("ipv4Prefix", options.IPv4PrefixLength);
            fields.Add("ipv6Prefix", options.IPv6PrefixLength);
            int used = 0, n = 0;
            foreach (var e in page.Entries)
            {
                var text = e.Key + "\n" + (e.Expires == null ? "-" : e.Expires.Value.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)) + "\n" + e.Value;
                // Escaped, a byte can take three: the budget counts what goes on the wire.
                int size = Uri.EscapeDataString(text).Length + 8;
                if (n > 0 && used + size > AnswerBudget) break;
                used += size;
                fields.Add("e" + n.ToString(CultureInfo.InvariantCulture), text);
                n++;
            }
            fields.Add("count", n);
            return fields;
        }

        /// <summary>The page a proxy answered; entries that do not parse (a newer proxy's) are left out.
        /// <paramref name="next"/>: where the next page starts; -1 when this was the last.</summary>
        public static GreylistPage ReadPage(ControlFields answer, out int next)
        {
            if (answer == null) throw new ArgumentNullException(nameof(answer));
            var options = new GreylistOptions
            {
                AutoAllowAfter = (int)answer.Number("autoAllowAfter"),
                IPv4PrefixLength = (int)answer.Number("ipv4Prefix"),
                IPv6PrefixLength = (int)answer.Number("ipv6Prefix"),
            };
            int offset = (int)answer.Number("offset"), total = (int)answer.Number("total"), count = (int)answer.Number("count");
            var entries = new List<GreylistEntry>();
            for (int i = 0; i < count; i++)
            {
                var text = answer.Text("e" + i.ToString(CultureInfo.InvariantCulture));
                var parts = text?.Split(new[] { '\n' }, 3);
                if (parts == null || parts.Length != 3) continue;
                DateTimeOffset? expires = null;
                if (parts[1] != "-" && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ms)
                    && ms <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
                    expires = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                if (GreylistEntry.TryParse(parts[0], parts[2], expires, options, out var entry)) entries.Add(entry);
            }
            next = offset + count < total && count > 0 ? offset + count : -1;
            return new GreylistPage(entries, offset, total, answer.Number("incomplete") != 0);
        }

        /// <summary>The answer to a remove request: the key was there.</summary>
        public static bool ReadRemoved(ControlFields answer) => answer != null && answer.Number("removed") == 1;

        // Keys are ASCII but for a domain of an internationalised sender: the request line is ASCII, one word.
        static bool IsPlainAscii(string s)
        {
            foreach (var c in s) if (c <= ' ' || c > '~') return false;
            return true;
        }
    }
}
