using System;
using System.Collections.Generic;
using System.Globalization;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The control channel's rule-hit request, so Get-SmtpdRuleHit in another console reads the counts
    /// of a proxy that runs as a service: <c>rule-hits &lt;offset&gt;</c> answers the rows of a fresh
    /// <see cref="RuleHitSnapshot"/> from row <c>offset</c> on (lines in file order, then the rows of
    /// decisions no line made), as many as fit in <see cref="AnswerBudget"/> bytes, with where the next
    /// page starts; the rules' hash tells the caller whether the rules changed between its pages.
    /// </summary>
    /// <remarks>One row is one field, <c>h&lt;n&gt;</c>: basis, line, action, start time (Unix
    /// milliseconds), accepted, refused, deferred, closed and the rule's text, separated by LF (a rule
    /// holds none); the channel percent-escapes the field.</remarks>
    public static class RuleHitControl
    {
        const string Verb = "rule-hits";
        /// <summary>The bytes of rows one answer carries at most (the client reads at most 64 KiB).</summary>
        internal const int AnswerBudget = 48 * 1024;
        const string BadRequest = "error bad rule-hits request\n\n";

        /// <summary>The request for the rows from <paramref name="offset"/> on.</summary>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
        public static string Request(int offset)
        {
            if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
            return Verb + " " + offset.ToString(CultureInfo.InvariantCulture);
        }

        /// <summary>The answer to a rule-hit request; null when <paramref name="request"/> is another request.</summary>
        /// <param name="request">The request line.</param>
        /// <param name="snapshot">Takes the snapshot (only when the request is this one).</param>
        public static string Answer(string request, Func<RuleHitSnapshot> snapshot)
        {
            if (request == null || snapshot == null) return null;
            var parts = request.Split(' ');
            if (parts[0] != Verb) return null;
            if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var offset)) return BadRequest;
            var s = snapshot();
            var rows = new List<RuleHit>(s.All);
            var fields = new ControlFields();
            fields.Add("sha256", s.RulesSha256);
            fields.Add("path", s.RulesPath);
            fields.Add("taken", s.Taken);
            fields.Add("total", rows.Count);
            fields.Add("offset", offset);
            int used = 0, n = 0;
            for (var i = offset; i < rows.Count; i++)
            {
                var text = Row(rows[i]);
                // Escaped, a byte can take three: the budget counts what goes on the wire.
                var size = Uri.EscapeDataString(text).Length + 8;
                if (n > 0 && used + size > AnswerBudget) break;
                used += size;
                fields.Add("h" + n.ToString(CultureInfo.InvariantCulture), text);
                n++;
            }
            fields.Add("count", n);
            return fields.ToWire();
        }

        static string Row(RuleHit h) =>
            h.Basis + "\n" + (h.Line?.ToString(CultureInfo.InvariantCulture) ?? "-") + "\n" + (h.Action?.ToString() ?? "-") + "\n"
            + h.Since.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "\n"
            + N(h.Accepted) + "\n" + N(h.Refused) + "\n" + N(h.Deferred) + "\n" + N(h.Closed) + "\n" + h.Rule;

        static string N(long n) => n.ToString(CultureInfo.InvariantCulture);

        /// <summary>One page a proxy answered: its rows (those that do not parse, a newer proxy's, left out),
        /// the rules' hash, and <paramref name="next"/>, where the next page starts (-1 after the last).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="answer"/> is null.</exception>
        public static IReadOnlyList<RuleHit> ReadPage(ControlFields answer, int proxyId, int processId, out string rulesSha256, out int next)
        {
            if (answer == null) throw new ArgumentNullException(nameof(answer));
            rulesSha256 = answer.Text("sha256");
            int offset = (int)answer.Number("offset"), total = (int)answer.Number("total"), count = (int)answer.Number("count");
            var rows = new List<RuleHit>(Math.Max(0, Math.Min(count, 10000)));
            for (var i = 0; i < count; i++)
            {
                var parts = answer.Text("h" + i.ToString(CultureInfo.InvariantCulture))?.Split(new[] { '\n' }, 9);
                if (parts == null || parts.Length != 9) continue;
                if (!Enum.TryParse<RuleHitBasis>(parts[0], false, out var basis) || !Enum.IsDefined(typeof(RuleHitBasis), basis)) continue;
                int? line = null;
                if (parts[1] != "-")
                {
                    if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var l)) continue;
                    line = l;
                }
                RuleAction? action = null;
                if (parts[2] != "-")
                {
                    if (!Enum.TryParse<RuleAction>(parts[2], false, out var a)) continue;
                    action = a;
                }
                if (!long.TryParse(parts[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var since)
                    || since < DateTimeOffset.MinValue.ToUnixTimeMilliseconds() || since > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
                    || !TryCount(parts[4], out var accepted) || !TryCount(parts[5], out var refused)
                    || !TryCount(parts[6], out var deferred) || !TryCount(parts[7], out var closed))
                    continue;
                rows.Add(new RuleHit(line, line == null ? null : parts[8], action, basis, accepted, refused, deferred, closed,
                                     DateTimeOffset.FromUnixTimeMilliseconds(since), proxyId, processId));
            }
            next = count > 0 && offset + count < total ? offset + count : -1;
            return rows;
        }

        static bool TryCount(string s, out long n) => long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out n);
    }
}
