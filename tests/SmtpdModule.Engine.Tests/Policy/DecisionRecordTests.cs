using System;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>
    /// The decision record end to end: a live proxy decides RCPTs from a client on 127.0.0.2 with
    /// its reverse name and an RBL answer from the loopback knot server; the log's records are read
    /// back and decided again with no network at all, and give the same replies; under other rules
    /// they give what the proxy would now answer.
    /// </summary>
    [Collection("dns")]
    public class DecisionRecordTests
    {
        const string Rules =
            "noto:RBL.bl.test:*@spam.test:ALL:550 5.7.1 %I is listed\n" +
            "allow:client.corp.test:ALL:*@example.test\n" +
            "noto:ALL:ALL:ALL\n";

        readonly TestDnsServer _dns;
        public DecisionRecordTests(TestDnsServer dns) { _dns = dns; }

        TestProxy StartProxy() => TestProxy.Start(Rules, o =>
        {
            o.ReverseLookup = true;
            o.Dns.Servers = new[] { _dns.EndPoint };
            o.Dns.Timeout = TimeSpan.FromSeconds(2);
        });

        async Task<DecisionRecord[]> DecideLiveAsync(TestProxy proxy)
        {
            var (json, _) = await ExternalClient.PythonAsync("relay_probe.py", new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                source = "127.0.0.2",
                helo = "client.corp.test",
                timeout = 10,
                message = "Subject: t\r\n\r\nbody\r\n",
                probes = new[]
                {
                    new { from = "<x@spam.test>", to = "<u@example.test>" },    // listed: line 1
                    new { from = "<x@far.test>", to = "<u@example.test>" },     // named client: line 2
                    new { from = "<x@far.test>", to = "<u@elsewhere.test>" },   // line 3
                },
            }, timeoutMs: 60000);
            Assert.Equal(3, json.GetProperty("results").GetArrayLength());
            var log = Path.Combine(proxy.Dir, "log", "smtpd.jsonl");
            // The log is written before each reply, so every decision is on file once the client has its answers.
            var records = DecisionRecordReader.ReadFile(log).ToArray();
            Assert.True(records.Length == 3, "decision records in the log: " + records.Length + "\n" + File.ReadAllText(log));
            return records;
        }

        [Fact]
        public async Task A_logged_decision_carries_its_facts_with_their_TTLs_the_rules_hash_and_the_deciding_line()
        {
            using var proxy = StartProxy();
            var records = await DecideLiveAsync(proxy);

            Assert.Equal(new int?[] { 1, 2, 3 }, records.Select(r => r.Line).ToArray());
            Assert.Equal(new[] { "Noto", "Allow", "Noto" }, records.Select(r => r.Action).ToArray());
            Assert.Equal("550 5.7.1 127.0.0.2 is listed", records[0].Replies.Single());
            Assert.Equal(VerdictKind.Reject, records[0].Kind);
            Assert.Equal(VerdictKind.Continue, records[1].Kind);
            var sha = BitConverter.ToString(SHA256.HashData(File.ReadAllBytes(proxy.RulesPath))).Replace("-", "").ToLowerInvariant();
            Assert.All(records, r => Assert.Equal(sha, r.RulesSha256, ignoreCase: true));
            Assert.All(records, r => Assert.Equal("client.corp.test", r.ClientName));
            Assert.All(records, r => Assert.Equal("127.0.0.2", r.ClientAddress));
            Assert.All(records, r => Assert.Equal("Found", r.Results["reverse"]));

            var ptr = records[0].Facts.Single(f => f.RecordType == DnsRecordType.PTR);
            Assert.Equal("client.corp.test", ptr.Values.Single().TrimEnd('.'));
            Assert.Equal(60, ptr.TimeToLive);   // the zone's $TTL
            var rbl = records[0].Facts.Single(f => f.Name.TrimEnd('.').Equals("2.0.0.127.bl.test", StringComparison.OrdinalIgnoreCase));
            Assert.Equal("Ok", rbl.Status);
            Assert.Equal(new[] { "127.0.0.2" }, rbl.Values);
        }

        [Fact]
        public async Task A_replay_of_each_record_without_any_network_gives_the_replies_the_client_read()
        {
            using var proxy = StartProxy();
            var records = await DecideLiveAsync(proxy);
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(proxy.RulesPath), proxy.Proxy.Options.RuleEvaluation),
                                              ProxyRuntime.PolicyOptionsFor(proxy.Proxy.Options));
            foreach (var record in records)
            {
                var outcome = await DecisionReplay.RunAsync(record, pipeline);   // no fallback: nothing goes to the network
                Assert.True(outcome.SameReplies, record.To + ": replay said " + string.Join(" / ", outcome.Verdict.Replies) + ", the proxy " + string.Join(" / ", record.Replies));
                Assert.Empty(outcome.Unrecorded);
                Assert.Equal(record.Line, outcome.Verdict.LineNumber);
            }
        }

        [Fact]
        public async Task A_replay_under_new_rules_answers_as_the_proxy_now_would_and_lists_what_the_record_lacked()
        {
            using var proxy = StartProxy();
            var records = await DecideLiveAsync(proxy);
            var newRules = RuleSet.Parse("noto:RBL.other.test:ALL:ALL:550 listed elsewhere\n" + Rules.Replace("noto:ALL:ALL:ALL", "allow:ALL:ALL:ALL"), "new-rules");
            var pipeline = new PolicyPipeline(new RuleEvaluator(newRules, proxy.Proxy.Options.RuleEvaluation), ProxyRuntime.PolicyOptionsFor(proxy.Proxy.Options));

            var outcome = await DecisionReplay.RunAsync(records[2], pipeline);

            // other.test was never asked live: without a fallback the lookup fails, and the rules defer
            // the RBL line rather than let a failed lookup decide; the next lines then decide.
            Assert.Contains(outcome.Unrecorded, q => q.Contains("other.test"));
            Assert.Equal(VerdictKind.Continue, outcome.Verdict.Kind);
            Assert.Equal(4, outcome.Verdict.LineNumber);
            Assert.False(outcome.SameReplies);
        }

        [Fact]
        public void A_record_reads_back_field_for_field_from_its_log_line()
        {
            var record = new DecisionRecord
            {
                Time = new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero), Session = "s-1", Stage = PolicyStage.Rcpt, Kind = VerdictKind.Close,
                Replies = new[] { "550 no \"quotes\"", "421 bye" }, Reason = "line 7", DelaySeconds = 1.5, ClientAddress = "2001:db8::1",
                ClientName = null, ReverseLookupNote = "no PTR", ReverseLookupFailed = true, Helo = "hélo", Esmtp = true, Tls = true,
                From = "<a@b.test>", SmtpUtf8 = true, To = "<ü@c.test>", Action = "Deny", Basis = "Rule", Line = 7, Rule = "deny:ALL:ALL:ALL",
                Ident = "root", Failure = "x\ny", RulesPath = "rules", RulesSha256 = "ab",
                Facts = new[]
                {
                    Fact.FromDns("1.0.0.0.ip6.arpa", DnsRecordType.PTR, DnsAnswer.Of(DnsStatus.NameError, null, null, 300)),
                    Fact.FromIdent(IdentAnswer.Of("root")),
                    Fact.FromState("grey:k", "3"),
                },
                Results = new System.Collections.Generic.Dictionary<string, string> { ["reverse"] = "Failed" },
            };
            var line = Engine.Diagnostics.JsonLinesLog.Format(new Engine.Diagnostics.ProxyEvent("decision", record.Session, record.ClientAddress, "m", record.ToData()));

            var back = DecisionRecordReader.FromLine(line);

            Assert.Equal(record.Session, back.Session);
            foreach (var p in typeof(DecisionRecord).GetProperties().Where(p => p.Name != "Time" && p.Name != "Facts"))
                Assert.Equal(p.GetValue(record), p.GetValue(back));
            Assert.Equal(record.Facts.Select(f => f.ToString()), back.Facts.Select(f => f.ToString()));
            Assert.Null(DecisionRecordReader.FromLine("{\"event\":\"connect\",\"v\":1}"));
            Assert.Throws<FormatException>(() => DecisionRecordReader.FromLine(line.Replace("\"v\":1", "\"v\":99")));
        }
    }
}
