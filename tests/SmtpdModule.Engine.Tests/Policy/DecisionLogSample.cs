using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>
    /// A decision log as the proxy writes it (JsonLinesLog.Format of each record's ToData), from a
    /// seeded random source: every field null, empty and set, text with every character the writer
    /// escapes, letters past ASCII and past the BMP, numbers at their limits, every fact kind, and
    /// other events in between.
    /// </summary>
    static class DecisionLogSample
    {
        public static string Lines(int records, int seed)
        {
            var random = new Random(seed);
            var sb = new StringBuilder();
            var time = new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.Zero);
            for (int i = 0; i < records; i++)
            {
                time = time.AddTicks(random.Next(1, 30_000_000));
                if (random.Next(4) == 0) sb.Append(Other(random, time)).Append('\n');
                var record = Record(random, time, i);
                var line = JsonLinesLog.Format(new ProxyEvent("decision", record.Session, record.ClientAddress, "m " + i, record.ToData()));
                // The event's own time is now; the log's is the record's (as bench/replay/LogGen does).
                var at = random.Next(20) == 0 ? time.ToOffset(TimeSpan.FromHours(2)).ToString("o", CultureInfo.InvariantCulture)   // not the fast form
                       : time.UtcDateTime.ToString("o", CultureInfo.InvariantCulture);
                sb.Append("{\"time\":\"").Append(at).Append('"').Append(line, line.IndexOf(','), line.Length - line.IndexOf(',')).Append('\n');
            }
            return sb.ToString();
        }

        static string Other(Random random, DateTimeOffset time)
        {
            var data = new List<KeyValuePair<string, object>>
            {
                new KeyValuePair<string, object>("size", "not a number"),   // a field a decision reads, of another type
                new KeyValuePair<string, object>("facts", Text(random)),
                new KeyValuePair<string, object>("n", random.Next()),
            };
            var kinds = new[] { "connect", "helo", "rcpt", "disconnect", "rules", "Decision", "decisions" };
            return JsonLinesLog.Format(new ProxyEvent(kinds[random.Next(kinds.Length)], "S" + random.Next(100), "192.0.2.1", Text(random), data));
        }

        static DecisionRecord Record(Random random, DateTimeOffset time, int i)
        {
            var replies = new string[random.Next(4)];
            for (int r = 0; r < replies.Length; r++) replies[r] = Pick(random, "250 2.1.5 Recipient OK", "550 5.7.1 listed", "421 4.3.0 bye") + (random.Next(5) == 0 ? Text(random) : "");
            var facts = new List<Fact>();
            for (int f = random.Next(8); f > 0; f--)
                switch (random.Next(4))
                {
                    case 0:
                        facts.Add(Fact.FromDns(Maybe(random, "172.93.13.142.in-addr.arpa") ?? Text(random), (DnsRecordType)random.Next(6),
                            DnsAnswer.Of((DnsStatus)random.Next(3), Values(random), random.Next(3) == 0 ? Text(random) : null,
                                         random.Next(3) == 0 ? (int?)null : Pick(random, 0, 300, 3600, int.MaxValue, -1))));
                        break;
                    case 1: facts.Add(Fact.FromIdent(random.Next(2) == 0 ? IdentAnswer.Of(Maybe(random, "root")) : IdentAnswer.Failure(Text(random)))); break;
                    case 2: facts.Add(Fact.FromState("grey:" + Text(random), Maybe(random, "3"))); break;
                    default: facts.Add(Fact.FromCount("rate:" + random.Next(1000), Pick(random, 0L, 1L, long.MaxValue, long.MinValue))); break;
                }
            var results = new Dictionary<string, string>();
            for (int n = random.Next(4); n > 0; n--) results["k" + n + Pick(random, "", "é", "\"q\"")] = Maybe(random, Pick(random, "Found", "NotFound", Text(random)));
            var failed = new string[random.Next(3)];
            for (int n = 0; n < failed.Length; n++) failed[n] = Pick(random, "pipelining", "early-talker", Text(random));
            return new DecisionRecord
            {
                Time = time,
                Session = "S" + i.ToString("x8"),
                Stage = (PolicyStage)random.Next(Enum.GetValues(typeof(PolicyStage)).Length),
                Kind = (VerdictKind)random.Next(Enum.GetValues(typeof(VerdictKind)).Length),
                Replies = replies,
                Reason = Maybe(random, "line " + random.Next(9)),
                DelaySeconds = Pick(random, 0.0, 1.5, 1e-7, 123456.789, 5.0),
                ClientAddress = Pick(random, "142.13.93.172", "2001:db8::1", "127.0.0.2"),
                ClientName = Maybe(random, "mail.example") ?? Maybe(random, Text(random)),
                ReverseLookupNote = Maybe(random, "no PTR"),
                ReverseLookupFailed = random.Next(2) == 0,
                Helo = Maybe(random, Text(random)),
                Esmtp = random.Next(2) == 0,
                Tls = random.Next(2) == 0,
                From = Maybe(random, "<" + Text(random) + "@sender.example>"),
                SmtpUtf8 = random.Next(2) == 0,
                To = Maybe(random, "<u" + i + "@example.test>"),
                Size = random.Next(3) == 0 ? (long?)null : Pick(random, 0L, 1000L, 9007199254740993L, long.MaxValue),
                Downstream = random.Next(3) == 0 ? DownstreamLimits.Unknown
                           : new DownstreamLimits(Pick(random, 0L, 10485760L), random.Next(2) == 0, random.Next(2) == 0, time.AddDays(-1), Maybe(random, "smarthost:25")),
                Action = Maybe(random, Pick(random, "Allow", "Noto", "Deny", "Defer")),
                Basis = Maybe(random, Pick(random, "Rule", "DefaultNoMatch", "LookupFailure")),
                Line = random.Next(3) == 0 ? (int?)null : Pick(random, 1, 5, int.MaxValue),
                Rule = Maybe(random, "allow:ALL:ALL:*@example.test"),
                Ident = Maybe(random, Text(random)),
                Failure = Maybe(random, Text(random)),
                Score = random.Next(3) == 0 ? (int?)null : Pick(random, 0, -3, 7),
                ScoreDetail = Maybe(random, "zen=3"),
                RulesPath = Pick(random, "../rules.txt", "C:\\rules\\smtpd_check_rules"),
                RulesSha256 = "d76b54f2eddc1aed4582b889da483d4c4fd2928e73cdce2f426b217f9ee9ae28",
                Facts = facts,
                Results = results,
                FailedTests = failed,
            };
        }

        static readonly string[] Pieces =
        {
            "plain", "", " ", "quote\"d", "back\\slash", "slash/", "tab\t", "new\nline", "cr\r", "\0nul", "\u001f", "\u007f", "\b\f",
            "é", "ü", "日本", "\U0001F600", "\uFFFD", "\u2028", "\uD800", "\uDFFF lone", "a\uD83D\uDE00b", "\u0080\u009f",
        };

        /// <summary>A string of several pieces, most of them something the writer escapes or UTF-8 takes more than a byte for.</summary>
        static string Text(Random random)
        {
            var sb = new StringBuilder();
            for (int n = random.Next(1, 4); n > 0; n--) sb.Append(Pieces[random.Next(Pieces.Length)]);
            return sb.ToString();
        }

        static string[] Values(Random random)
        {
            var values = new string[random.Next(3)];
            for (int i = 0; i < values.Length; i++) values[i] = random.Next(2) == 0 ? "127.0.0." + random.Next(256) : Text(random);
            return values;
        }

        static string Maybe(Random random, string value) => random.Next(4) == 0 ? null : value;

        static T Pick<T>(Random random, params T[] values) => values[random.Next(values.Length)];
    }
}
