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
    /// A Postfix-like score through a running proxy, knotd serving two blocklists and an allowlist
    /// (tests/fixtures/dns: good.test, bl2.test, wl.test). Clients bind to 127.0.0.3 and 127.0.0.4.
    /// </summary>
    [Collection("dns")]
    public class DnsblScoreProxyTests
    {
        const string Rules =
            "score:spam:good.test*3 bl2.test*2 wl.test=127.0.[0..255].[1..3]*-2\n" +
            "deny:SCORE.spam>=3:ALL:ALL:550 5.7.1 %C scores too high on DNS blocklists\n" +
            "allow:ALL:ALL:ALL\n";

        readonly TestDnsServer _dns;
        public DnsblScoreProxyTests(TestDnsServer dns) { _dns = dns; }

        [Fact]
        public async Task A_client_on_two_weighted_lists_is_refused_and_one_on_a_list_and_an_allowlist_passes()
        {
            using var relay = RelayDnsServer.Start(_dns.EndPoint);
            using var proxy = TestProxy.Start(Rules, o =>
            {
                o.Dns.Servers = new[] { relay.EndPoint };
                o.Dns.Timeout = TimeSpan.FromSeconds(2);
            });
            await TestWait.UntilAsync(() => proxy.Proxy.DnsblZones.Count(z => z.Status == DnsblHealthStatus.Healthy) == 3, proxy.Log, 20000);

            // 127.0.0.3: good.test 127.0.0.4 (+3) and bl2.test (+2) = 5.
            var (refused, _) = await ExternalClient.PythonAsync("smtplib_send.py", new
            {
                host = "127.0.0.1", port = proxy.EndPoint.Port, source = "127.0.0.3", helo = "client.example.test",
                from = "a@example.org", to = new[] { "u@far.test" }, message = "Subject: score\r\n\r\nhello\r\n",
            });
            Assert.True(refused.GetProperty("result").GetString() == "error", refused + "\n" + proxy.Log);
            Assert.Equal(550, refused.GetProperty("error").GetProperty("recipients").GetProperty("u@far.test")[0].GetInt32());

            // 127.0.0.4: good.test 127.0.0.10 (+3) and wl.test 127.0.10.2 (-2) = 1.
            var swaks = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--local-interface", "127.0.0.4", "--from", "b@example.org", "--to", "v@far.test", "--data", "Subject: score\\n\\nhello",
            });
            Assert.True(swaks.ExitCode == 0, swaks + "\n" + proxy.Log);
            Assert.Single(proxy.Spooled());
            // Each zone was asked once per client.
            Assert.Equal(1, relay.Asked("3.0.0.127.good.test"));
            Assert.Equal(1, relay.Asked("3.0.0.127.bl2.test"));
            Assert.Equal(1, relay.Asked("4.0.0.127.wl.test"));

            // The decision records carry the score, and a replay without network decides the same.
            var records = DecisionRecordReader.ReadFile(Path.Combine(proxy.Dir, "log", "smtpd.jsonl"))
                .Where(r => r.Stage == PolicyStage.Rcpt).ToArray();
            var denied = records.Single(r => r.ClientAddress == "127.0.0.3");
            var passed = records.Single(r => r.ClientAddress == "127.0.0.4");
            Assert.Equal((5, "spam: good.test=127.0.0.4 +3, bl2.test=127.0.0.2 +2 = 5 (threshold 3)"), (denied.Score.Value, denied.ScoreDetail));
            Assert.Equal((1, "spam: good.test=127.0.0.10 +3, wl.test=127.0.10.2 -2 = 1"), (passed.Score.Value, passed.ScoreDetail));
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(proxy.RulesPath), proxy.Proxy.Options.RuleEvaluation),
                                              ProxyRuntime.PolicyOptionsFor(proxy.Proxy.Options));
            foreach (var record in new[] { denied, passed })
            {
                var outcome = await DecisionReplay.RunAsync(record, pipeline);
                Assert.True(outcome.SameReplies, string.Join(" / ", outcome.Verdict.Replies) + " vs " + string.Join(" / ", record.Replies));
                Assert.Empty(outcome.Unrecorded);
                Assert.Equal((record.Score, record.ScoreDetail), (outcome.Verdict.Decision.Score, outcome.Verdict.Decision.ScoreDetail));
            }
        }
    }
}
