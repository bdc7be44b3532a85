using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// One verdict with everything it depended on: the session's facts as the checks saw them
    /// (client, name, HELO, sender, recipient, TLS), every network answer used (with its TTL), the
    /// results of earlier checks, the rules file's SHA-256 and the deciding line. The proxy's log
    /// writes it (<see cref="ToData"/>, schema <see cref="SchemaVersion"/>); a replay reads it back
    /// (<see cref="DecisionRecordReader"/>) and decides again on the same facts.
    /// </summary>
    public sealed class DecisionRecord
    {
        /// <summary>Changes whenever a field changes meaning or goes away; new fields do not change it.</summary>
        public const int SchemaVersion = 1;

        public int Version { get; set; } = SchemaVersion;
        public DateTimeOffset Time { get; set; }
        public string Session { get; set; }
        public PolicyStage Stage { get; set; }
        public VerdictKind Kind { get; set; }
        public IReadOnlyList<string> Replies { get; set; } = new string[0];
        public string Reason { get; set; }
        /// <summary>Seconds waited before the replies.</summary>
        public double DelaySeconds { get; set; }
        public string ClientAddress { get; set; }
        public string ClientName { get; set; }
        public string ReverseLookupNote { get; set; }
        public bool ReverseLookupFailed { get; set; }
        public string Helo { get; set; }
        public bool Esmtp { get; set; }
        public bool Tls { get; set; }
        public string From { get; set; }
        public bool SmtpUtf8 { get; set; }
        public string To { get; set; }
        /// <summary>The SIZE MAIL FROM declared; null when none was.</summary>
        public long? Size { get; set; }
        /// <summary>The downstream's limits the session decided with (its EHLO's SIZE and SMTPUTF8,
        /// MAIL's checks); <see cref="DownstreamLimits.Unknown"/> when none were known, and then the
        /// proxy's own limits applied.</summary>
        public DownstreamLimits Downstream { get; set; } = DownstreamLimits.Unknown;
        /// <summary>The rules' action (Allow, Noto, Deny, Defer); null when the rules were not asked.</summary>
        public string Action { get; set; }
        /// <summary>Why the rules decided so (Rule, DefaultNoMatch, LookupFailure, AddressCheck ...).</summary>
        public string Basis { get; set; }
        public int? Line { get; set; }
        public string Rule { get; set; }
        public string Ident { get; set; }
        public string Failure { get; set; }
        /// <summary>The DNSBL score the rules computed (<see cref="RuleDecision.Score"/>); null when none was.</summary>
        public int? Score { get; set; }
        /// <summary>The lists that made <see cref="Score"/> (<see cref="RuleDecision.ScoreDetail"/>).</summary>
        public string ScoreDetail { get; set; }
        public string RulesPath { get; set; }
        public string RulesSha256 { get; set; }
        public IReadOnlyList<Fact> Facts { get; set; } = new Fact[0];
        public IReadOnlyDictionary<string, string> Results { get; set; } = new Dictionary<string, string>();
        /// <summary>The protocol tests the client had failed in the session when this was decided.</summary>
        public IReadOnlyList<string> FailedTests { get; set; } = new string[0];

        /// <summary>The record of <paramref name="verdict"/>, made in <paramref name="session"/> under <paramref name="pipeline"/>'s rules.</summary>
        public static DecisionRecord Of(PolicySession session, Verdict verdict, PolicyPipeline pipeline, string sessionId = null, string recipient = null)
        {
            var d = verdict.Decision;
            var ruleSet = pipeline.Evaluator.RuleSet;
            return new DecisionRecord
            {
                Time = DateTimeOffset.UtcNow,
                Session = sessionId,
                Stage = verdict.Stage,
                Kind = verdict.Kind,
                Replies = verdict.Replies.ToArray(),
                Reason = verdict.Reason,
                DelaySeconds = verdict.Delay.TotalSeconds,
                ClientAddress = session.Client.Text,
                ClientName = session.ClientName,
                ReverseLookupNote = session.ReverseLookupNote,
                ReverseLookupFailed = session.ReverseLookupFailed,
                Helo = session.Helo,
                Esmtp = session.Esmtp,
                Tls = session.Tls,
                From = session.Sender?.Text,
                SmtpUtf8 = session.SmtpUtf8,
                To = d?.To ?? recipient,
                Size = session.DeclaredSize,
                Downstream = session.Downstream,
                Action = d?.Action.ToString(),
                Basis = d?.Basis.ToString(),
                Line = d?.LineNumber,
                Rule = d?.Rule,
                Ident = d?.Ident,
                Failure = d?.FailureReason,
                Score = d?.Score,
                ScoreDetail = d?.ScoreDetail,
                RulesPath = ruleSet.Path,
                RulesSha256 = ruleSet.Sha256,
                Facts = session.Facts.Facts,
                Results = new Dictionary<string, string>(session.Results),
                FailedTests = ProtocolTestNames.Of(session.FailedTests),
            };
        }

        /// <summary>The record of a MAIL <paramref name="verdict"/> that did not take effect: the
        /// transaction never began, so the command's own sender, SMTPUTF8 and SIZE are recorded.</summary>
        public static DecisionRecord OfMail(PolicySession session, Verdict verdict, PolicyPipeline pipeline, string pathText, bool smtpUtf8,
                                            long? declaredSize, string sessionId = null)
        {
            var record = Of(session, verdict, pipeline, sessionId);
            record.From = pathText;
            record.SmtpUtf8 = smtpUtf8;
            record.Size = declaredSize;
            return record;
        }

        /// <summary>The fields as a log event carries them, in a fixed order.</summary>
        public IReadOnlyList<KeyValuePair<string, object>> ToData()
        {
            var data = new List<KeyValuePair<string, object>>
            {
                F("v", Version), F("stage", Stage.ToString()), F("verdict", Kind.ToString()), F("replies", Replies),
                F("reply", Action != null && Kind != VerdictKind.Continue && Replies.Count > 0 ? Replies[0] : null),
                F("reason", Reason), F("delay", DelaySeconds), F("clientAddress", ClientAddress), F("name", ClientName),
                F("reverse", ReverseLookupNote), F("reverseFailed", ReverseLookupFailed), F("helo", Helo), F("esmtp", Esmtp),
                F("tls", Tls), F("from", From), F("smtputf8", SmtpUtf8), F("to", To), F("action", Action), F("basis", Basis),
                F("line", Line), F("rule", Rule), F("ident", Ident), F("failure", Failure), F("rules", RulesPath),
                F("rulesSha256", RulesSha256), F("size", Size), F("downstream", DownstreamData(Downstream)), F("failed", FailedTests),
                F("score", Score), F("scoreDetail", ScoreDetail),
            };
            var facts = new List<object>(Facts.Count);
            foreach (var f in Facts)
                facts.Add(new List<KeyValuePair<string, object>>
                {
                    F("kind", f.Kind.ToString()), F("name", f.Name), F("type", f.RecordType?.ToString()), F("status", f.Status),
                    F("values", f.Values), F("error", f.Error), F("ttl", f.TimeToLive),
                });
            data.Add(F("facts", facts));
            data.Add(F("results", Results.Select(kv => F(kv.Key, kv.Value)).ToList()));
            return data;
        }

        /// <summary>Null when nothing was known (the proxy's own limits applied).</summary>
        static List<KeyValuePair<string, object>> DownstreamData(DownstreamLimits d) =>
            d == null || !d.IsKnown ? null : new List<KeyValuePair<string, object>>
            {
                F("size", d.MaxSize), F("smtputf8", d.SmtpUtf8), F("8bitmime", d.EightBitMime),
                F("learned", d.LearnedAt?.UtcDateTime.ToString("o", CultureInfo.InvariantCulture)), F("from", d.Detail),
            };

        static KeyValuePair<string, object> F(string key, object value) => new KeyValuePair<string, object>(key, value);
    }
}
