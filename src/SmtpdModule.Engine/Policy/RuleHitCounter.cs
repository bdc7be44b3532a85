using System;
using System.Collections.Generic;
using System.Threading;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// A running proxy's RCPT verdicts counted per rule line and per verdict kind (accepted, refused,
    /// deferred, closed), with one row more for each way a recipient is decided without a line
    /// (<see cref="RuleHitBasis"/>). One counter belongs to one <see cref="RuleSet"/>; when the rules
    /// file is reloaded, the next counter takes over the rows of the lines whose text did not change,
    /// wherever they moved, and starts the others at zero (<see cref="RuleHitCounter(RuleSet, RuleHitCounter, DateTimeOffset)"/>).
    /// <see cref="Snapshot"/> reads it for Get-SmtpdRuleHit (and any exporter).
    /// </summary>
    /// <remarks>
    /// Counting is on the session's hot path: an array lookup and one <see cref="Interlocked.Increment(ref long)"/>,
    /// no lock and no allocation. A row is a <c>long[5]</c> (four counts and the start time's ticks)
    /// that a line keeps across reloads by reference, not by copy: a session still deciding under the
    /// old rules counts into the same row the new counter shows, so no hit is lost to a reload.
    /// Snapshots read each count atomically, but not all at once: a snapshot taken while sessions
    /// decide may hold a verdict in one row and not yet in another.
    /// </remarks>
    public sealed class RuleHitCounter
    {
        internal const int Accepted = 0, Refused = 1, Deferred = 2, Closed = 3, SinceSlot = 4, RowLength = 5;
        static readonly int OtherCount = Enum.GetValues(typeof(RuleHitBasis)).Length;

        readonly RuleSet _rules;
        readonly long[][] _lines;     // by rule index, file order
        readonly long[][] _byLine;    // by line number: the same rows, null where no rule starts
        readonly long[][] _others;    // by RuleHitBasis; [Rule] unused

        /// <summary>A counter for <paramref name="rules"/> that starts at zero now.</summary>
        public RuleHitCounter(RuleSet rules) : this(rules, null, DateTimeOffset.UtcNow) { }

        /// <summary>
        /// A counter for <paramref name="rules"/> that carries on from <paramref name="previous"/>: a line
        /// whose text is, character for character, that of a line of the previous rules keeps its row
        /// (counts and start time), wherever it is now; when several lines have the same text, they are
        /// paired in file order. A changed or new line starts at zero at <paramref name="now"/>. The rows of
        /// decisions no line made always carry on.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="rules"/> is null.</exception>
        public RuleHitCounter(RuleSet rules, RuleHitCounter previous, DateTimeOffset now)
        {
            _rules = rules ?? throw new ArgumentNullException(nameof(rules));
            Dictionary<string, Queue<long[]>> kept = null;
            if (previous != null)
            {
                kept = new Dictionary<string, Queue<long[]>>(StringComparer.Ordinal);
                for (var i = 0; i < previous._lines.Length; i++)
                {
                    var text = previous._rules.Rules[i].Text ?? "";
                    if (!kept.TryGetValue(text, out var q)) kept[text] = q = new Queue<long[]>();
                    q.Enqueue(previous._lines[i]);
                }
            }
            var maxLine = 0;
            foreach (var rule in rules.Rules) maxLine = Math.Max(maxLine, rule.LineNumber);
            _lines = new long[rules.Rules.Count][];
            _byLine = new long[maxLine + 1][];
            for (var i = 0; i < _lines.Length; i++)
            {
                var rule = rules.Rules[i];
                long[] row = null;
                if (kept != null && kept.TryGetValue(rule.Text ?? "", out var q) && q.Count > 0) row = q.Dequeue();
                _lines[i] = row ?? NewRow(now);
                if (rule.LineNumber >= 0) _byLine[rule.LineNumber] = _lines[i];
            }
            if (previous != null) _others = previous._others;
            else
            {
                _others = new long[OtherCount][];
                for (var i = 0; i < OtherCount; i++) _others[i] = NewRow(now);
            }
        }

        static long[] NewRow(DateTimeOffset since) => new long[RowLength] { 0, 0, 0, 0, since.UtcTicks };

        /// <summary>The rules this counter counts for.</summary>
        public RuleSet Rules => _rules;

        /// <summary>Counts one RCPT verdict made under this counter's rules.</summary>
        internal void Count(Verdict verdict)
        {
            var row = RowOf(verdict);
            Interlocked.Increment(ref row[ColumnOf(verdict.Kind)]);
        }

        long[] RowOf(Verdict v)
        {
            if (v.Fault != null) return _others[(int)RuleHitBasis.Fault];
            if (v.ByProtocolTest) return _others[(int)RuleHitBasis.ProtocolTest];
            var d = v.Decision;
            if (d == null) return _others[(int)(v.IsClientError ? RuleHitBasis.AddressCheck : RuleHitBasis.Limit)];
            switch (d.Basis)
            {
                case DecisionBasis.Rule:
                    var line = d.LineNumber ?? -1;
                    var row = line >= 0 && line < _byLine.Length ? _byLine[line] : null;
                    return row ?? _others[(int)RuleHitBasis.DefaultNoMatch];   // not a line of these rules: cannot happen
                case DecisionBasis.LookupFailure: return _others[(int)RuleHitBasis.LookupFailure];
                case DecisionBasis.AddressCheck: return _others[(int)RuleHitBasis.AddressCheck];
                case DecisionBasis.RecipientVerification: return _others[(int)RuleHitBasis.RecipientVerification];
                default: return _others[(int)RuleHitBasis.DefaultNoMatch];
            }
        }

        static int ColumnOf(VerdictKind kind)
        {
            switch (kind)
            {
                case VerdictKind.Reject: return Refused;
                case VerdictKind.TempFail: return Deferred;
                case VerdictKind.Close: return Closed;
                default: return Accepted;   // Continue, Delay: the recipient is taken
            }
        }

        /// <summary>The counts now, for the proxy <paramref name="proxyId"/> of process <paramref name="processId"/>.</summary>
        public RuleHitSnapshot Snapshot(int proxyId = 0, int processId = 0)
        {
            var lines = new RuleHit[_lines.Length];
            for (var i = 0; i < lines.Length; i++)
            {
                var rule = _rules.Rules[i];
                lines[i] = Hit(_lines[i], rule.LineNumber, rule.Text, rule.Verb == RuleVerb.Debug ? (RuleAction?)null : rule.Action,
                               RuleHitBasis.Rule, proxyId, processId);
            }
            var others = new RuleHit[OtherCount - 1];
            for (var b = 1; b < OtherCount; b++)
                others[b - 1] = Hit(_others[b], null, null, null, (RuleHitBasis)b, proxyId, processId);
            return new RuleHitSnapshot(_rules.Path, _rules.Sha256, DateTimeOffset.UtcNow, lines, others);
        }

        static RuleHit Hit(long[] row, int? line, string rule, RuleAction? action, RuleHitBasis basis, int proxyId, int processId) =>
            new RuleHit(line, rule, action, basis, Interlocked.Read(ref row[Accepted]), Interlocked.Read(ref row[Refused]),
                        Interlocked.Read(ref row[Deferred]), Interlocked.Read(ref row[Closed]),
                        new DateTimeOffset(Interlocked.Read(ref row[SinceSlot]), TimeSpan.Zero), proxyId, processId);
    }
}
