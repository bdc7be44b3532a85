using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Tests.Evidence.Report
{
    /// <summary>Log events as the proxy and the forwarder write them, read back through <see cref="LogReader.Parse"/>,
    /// at times the test chooses.</summary>
    internal static class ReportEvents
    {
        public static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero);

        public static LogEvent At(TimeSpan at, string kind, string session, string client, params KeyValuePair<string, object>[] data) =>
            LogReader.Parse(Stamp(JsonLinesLog.Format(new ProxyEvent(kind, session, client, null, data)), T0 + at), "test.log", 1);

        public static LogEvent Decision(TimeSpan at, string session, string client, VerdictKind kind, string reply, int? line, string rule,
                                        string basis = "Rule", string from = "<a@example.org>", string to = "<b@example.test>",
                                        IReadOnlyList<Fact> facts = null, IDictionary<string, string> results = null, string action = null)
        {
            var record = new DecisionRecord
            {
                Time = T0 + at, Session = session, Stage = PolicyStage.Rcpt, Kind = kind, Replies = reply == null ? new string[0] : new[] { reply },
                Reason = "because", ClientAddress = client, ClientName = "mx.example.org", From = from, To = to,
                Action = action ?? (kind == VerdictKind.Continue ? "Allow" : "Noto"), Basis = basis, Line = line, Rule = rule,
                RulesPath = "/etc/smtpd/rules", RulesSha256 = "ab12", Facts = facts ?? new Fact[0],
                Results = results == null ? new Dictionary<string, string>() : new Dictionary<string, string>(results),
            };
            return LogReader.Parse(Stamp(JsonLinesLog.Format(new ProxyEvent("decision", session, client, "decided", record.ToData())), record.Time), "test.log", 1);
        }

        public static KeyValuePair<string, object> F(string key, object value) => new KeyValuePair<string, object>(key, value);

        // The writer stamps the event's own time ("time":"<28 characters>" first); the test wants its own.
        static string Stamp(string line, DateTimeOffset time) =>
            line.Substring(0, 9) + time.UtcDateTime.ToString("o") + line.Substring(9 + 28);
    }
}
