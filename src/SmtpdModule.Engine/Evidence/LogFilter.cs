using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Which log events a query wants. Every criterion given must hold; within one, any value
    /// will do. Time and client apply to every event; sender, recipient, verdict and rule line
    /// only to decisions, so giving one of those leaves only decisions. Besides the exact test
    /// (<see cref="Matches"/>) it answers, from the start of a line or its raw text, whether the
    /// line can match at all, so that most lines of a selective query are never parsed.
    /// One reader at a time: it remembers the clients it has tested.
    /// </summary>
    public sealed class LogFilter
    {
        /// <summary>From this time on (inclusive).</summary>
        public DateTimeOffset? After { get; private set; }
        /// <summary>Before this time (exclusive).</summary>
        public DateTimeOffset? Before { get; private set; }
        public IReadOnlyList<NetworkRange> Clients { get; private set; }
        public IReadOnlyList<AddressWildcard> From { get; private set; }
        public IReadOnlyList<AddressWildcard> To { get; private set; }
        public IReadOnlyCollection<string> Events { get; private set; }
        public IReadOnlyCollection<VerdictKind> Verdicts { get; private set; }
        public IReadOnlyCollection<DecisionOutcome> Outcomes { get; private set; }
        public IReadOnlyCollection<int> Lines { get; private set; }

        string _afterText, _beforeText;     // the times as the log writes them: fixed-width UTC, so they compare as text
        byte[][] _verdictNeedles, _lineNeedles;

        /// <summary>Only decisions can match.</summary>
        public bool DecisionsOnly => From != null || To != null || Verdicts != null || Outcomes != null || Lines != null;

        /// <param name="clients">Addresses or networks in CIDR form.</param>
        /// <param name="from">Sender wildcards (<c>*</c>, <c>?</c>, brackets ignored, case ignored).</param>
        /// <param name="to">Recipient wildcards.</param>
        /// <param name="verdicts">Continue, Reject, TempFail, Close, Delay, or Accepted, Refused, Deferred; case ignored.</param>
        /// <param name="lines">Rule line numbers.</param>
        /// <param name="events">Event kinds (decision, connect, forwarded ...); case ignored.</param>
        /// <exception cref="ArgumentException">A client is not an address or network (ParamName <c>clients</c>), or a verdict is not one of the names (<c>verdicts</c>).</exception>
        public static LogFilter Create(DateTimeOffset? after = null, DateTimeOffset? before = null, IEnumerable<string> clients = null,
                                       IEnumerable<string> from = null, IEnumerable<string> to = null, IEnumerable<string> verdicts = null,
                                       IEnumerable<int> lines = null, IEnumerable<string> events = null)
        {
            var f = new LogFilter { After = after, Before = before };
            if (clients != null) f.Clients = NetworkRange.ParseList(clients, nameof(clients));
            if (from != null) f.From = from.Select(p => new AddressWildcard(p)).ToList();
            if (to != null) f.To = to.Select(p => new AddressWildcard(p)).ToList();
            if (events != null) f.Events = new HashSet<string>(events, StringComparer.OrdinalIgnoreCase);
            if (lines != null) f.Lines = new HashSet<int>(lines);
            if (verdicts != null)
            {
                var kinds = new HashSet<VerdictKind>();
                var outcomes = new HashSet<DecisionOutcome>();
                foreach (var v in verdicts)
                {
                    if (Enum.TryParse<VerdictKind>(v, true, out var k) && Enum.IsDefined(typeof(VerdictKind), k)) kinds.Add(k);
                    else if (Enum.TryParse<DecisionOutcome>(v, true, out var o) && Enum.IsDefined(typeof(DecisionOutcome), o)) outcomes.Add(o);
                    else throw new ArgumentException("'" + v + "' is not a verdict: " + string.Join(", ", Enum.GetNames(typeof(VerdictKind)))
                                                     + ", or " + string.Join(", ", Enum.GetNames(typeof(DecisionOutcome))) + ".", nameof(verdicts));
                }
                f.Verdicts = kinds;
                f.Outcomes = outcomes;
                f._verdictNeedles = kinds.Concat(outcomes.SelectMany(DecisionOutcomes.KindsOf)).Distinct()
                    .Select(k => Utf8("\"verdict\":\"" + k + "\"")).ToArray();
            }
            if (f.Lines != null) f._lineNeedles = f.Lines.SelectMany(n => new[] { Utf8("\"line\":" + n.ToString(CultureInfo.InvariantCulture) + ","),
                                                                                   Utf8("\"line\":" + n.ToString(CultureInfo.InvariantCulture) + "}") }).ToArray();
            if (after != null) f._afterText = LogText(after.Value);
            if (before != null) f._beforeText = LogText(before.Value);
            return f;
        }

        static byte[] Utf8(string s) => System.Text.Encoding.UTF8.GetBytes(s);

        static string LogText(DateTimeOffset t) => t.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);

        /// <summary>The exact test, on a parsed event.</summary>
        public bool Matches(LogEvent e)
        {
            if (e == null) return false;
            if (After != null && e.Time < After.Value) return false;
            if (Before != null && e.Time >= Before.Value) return false;
            if (Events != null && !Events.Contains(e.Kind ?? "")) return false;
            if (Clients != null && !ClientMatches(e.Client)) return false;
            if (!DecisionsOnly) return true;
            if (!(e is LogDecision d)) return false;
            if (From != null && !AnyMatch(From, d.From)) return false;
            if (To != null && !AnyMatch(To, d.To)) return false;
            if ((Verdicts != null || Outcomes != null) && !Verdicts.Contains(d.Verdict) && !Outcomes.Contains(d.Outcome)) return false;
            if (Lines != null && (d.Line == null || !Lines.Contains(d.Line.Value))) return false;
            return true;
        }

        /// <summary>False when a line that begins so cannot match; true when it may.</summary>
        internal bool HeadMayMatch(in LogLineHead head)
        {
            if (_afterText != null || _beforeText != null)
            {
                if (head.TimeIsLogText)
                {
                    if (_afterText != null && string.CompareOrdinal(head.Time, _afterText) < 0) return false;
                    if (_beforeText != null && string.CompareOrdinal(head.Time, _beforeText) >= 0) return false;
                }
            }
            if (Events != null && !Events.Contains(head.Event)) return false;
            if (DecisionsOnly && head.Event != DecisionRecordReader.EventName) return false;
            if (Clients != null && !ClientMatches(head.Client)) return false;
            return true;
        }

        /// <summary>False when the raw line (UTF-8) lacks what a match needs (the writer's spelling of a verdict or a rule line).</summary>
        internal bool TextMayMatch(byte[] line, int start, int length)
        {
            if (_verdictNeedles != null && !ContainsAny(line, start, length, _verdictNeedles)) return false;
            if (_lineNeedles != null && !ContainsAny(line, start, length, _lineNeedles)) return false;
            return true;
        }

        static bool ContainsAny(byte[] line, int start, int length, byte[][] needles)
        {
            var text = new ReadOnlySpan<byte>(line, start, length);
            foreach (var n in needles)
                if (text.IndexOf(n) >= 0) return true;
            return false;
        }

        // A client's lines come in runs (a session writes several), and parsing an address costs
        // more than the rest of a skipped line: remember the answers, within a bound.
        readonly Dictionary<string, bool> _clientAnswers = new Dictionary<string, bool>(StringComparer.Ordinal);
        const int MaxClientAnswers = 10000;

        bool ClientMatches(string client)
        {
            if (client == null) return false;
            if (_clientAnswers.TryGetValue(client, out var known)) return known;
            if (_clientAnswers.Count >= MaxClientAnswers) _clientAnswers.Clear();
            return _clientAnswers[client] = ClientIn(client);
        }

        bool ClientIn(string client)
        {
            // Session events name an address; a refused connection (limit) its end point.
            IPAddress ip;
            if (IPText.TryParseAddress(client, out var address, out _)) ip = address;
            else if (IPText.TryParseEndPoint(client, 0, true, true, out var endPoint, out _)) ip = endPoint.Address;
            else return false;
            return NetworkRange.AnyContains(Clients, new PeerAddress(ip));
        }

        // Brackets are the client's spelling, not the address: <a@example.org> matches *@example.org.
        static bool AnyMatch(IReadOnlyList<AddressWildcard> patterns, string address)
        {
            if (address == null) return false;
            var bare = address.Length >= 2 && address[0] == '<' && address[address.Length - 1] == '>' ? address.Substring(1, address.Length - 2) : address;
            foreach (var p in patterns)
                if (p.IsMatch(bare)) return true;
            return false;
        }
    }
}
