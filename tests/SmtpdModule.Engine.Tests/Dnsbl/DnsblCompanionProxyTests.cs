using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>
    /// Through a running proxy, knotd serving good.test and bl2.test behind a relay that counts
    /// the questions: once a line asks one list about a client, the client's other list is asked at
    /// the same moment; a client an earlier line let through is asked of none; and the decision
    /// records only what the lines asked, so a replay without network decides the same.
    /// </summary>
    [Collection("dns")]
    public class DnsblCompanionProxyTests
    {
        const string Rules =
            "allow:127.0.0.7:ALL:ALL\n" +
            "noto:RBL.good.test:ALL:ALL\n" +
            "noto:RBL.bl2.test:ALL:ALL\n" +
            "allow:ALL:ALL:ALL\n";

        readonly TestDnsServer _dns;
        public DnsblCompanionProxyTests(TestDnsServer dns) { _dns = dns; }

        [Fact]
        public async Task A_clients_other_list_is_asked_with_the_first_and_only_the_lines_questions_are_recorded()
        {
            using var relay = RelayDnsServer.Start(_dns.EndPoint);
            using var proxy = TestProxy.Start(Rules, o =>
            {
                o.Dns.Servers = new[] { relay.EndPoint };
                o.Dns.Timeout = TimeSpan.FromSeconds(2);
            });
            await TestWait.UntilAsync(() => proxy.Proxy.DnsblZones.Count(z => z.Status == DnsblHealthStatus.Healthy) == 2, proxy.Log, 20000);

            // 127.0.0.3 is on good.test: line 2 refuses it; line 3 is never read, yet bl2.test was asked.
            var refused = await Send(proxy, "127.0.0.3");
            Assert.True(refused.GetProperty("result").GetString() == "error", refused + "\n" + proxy.Log);
            await TestWait.UntilAsync(() => relay.Asked("3.0.0.127.bl2.test") == 1, proxy.Log, 10000);
            Assert.Equal(1, relay.Asked("3.0.0.127.good.test"));

            // 127.0.0.6 is on neither: both lines ask, each question reaches the DNS once.
            var sent = await Send(proxy, "127.0.0.6");
            Assert.True(sent.GetProperty("result").GetString() == "sent", sent + "\n" + proxy.Log);
            Assert.Equal(1, relay.Asked("6.0.0.127.good.test"));
            Assert.Equal(1, relay.Asked("6.0.0.127.bl2.test"));

            // 127.0.0.7 is let through by line 1: no list is asked about it.
            var local = await Send(proxy, "127.0.0.7");
            Assert.True(local.GetProperty("result").GetString() == "sent", local + "\n" + proxy.Log);
            Assert.Equal(0, relay.Asked("7.0.0.127.good.test") + relay.Asked("7.0.0.127.bl2.test"));

            var records = DecisionRecordReader.ReadFile(Path.Combine(proxy.Dir, "log", "smtpd.jsonl"))
                .Where(r => r.Stage == PolicyStage.Rcpt).ToArray();
            var first = records.Single(r => r.ClientAddress == "127.0.0.3");
            Assert.Contains(first.Facts, f => f.Name == "3.0.0.127.good.test");
            Assert.DoesNotContain(first.Facts, f => f.Name.Contains("bl2.test"));
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(proxy.RulesPath), proxy.Proxy.Options.RuleEvaluation),
                                              ProxyRuntime.PolicyOptionsFor(proxy.Proxy.Options));
            foreach (var record in records)
            {
                var outcome = await DecisionReplay.RunAsync(record, pipeline);
                Assert.True(outcome.SameReplies, string.Join(" / ", outcome.Verdict.Replies) + " vs " + string.Join(" / ", record.Replies));
                Assert.Empty(outcome.Unrecorded);
            }
        }

        static async Task<System.Text.Json.JsonElement> Send(TestProxy proxy, string source)
        {
            var (result, _) = await ExternalClient.PythonAsync("smtplib_send.py", new
            {
                host = "127.0.0.1", port = proxy.EndPoint.Port, source, helo = "client.example.test",
                from = "a@example.org", to = new[] { "u@far.test" }, message = "Subject: companions\r\n\r\nhello\r\n",
            });
            return result;
        }
    }
}
