using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>SPF= on the one decision path: the token, the check started at MAIL, its bound, its
    /// per-session cache, and a replay of the record from its facts alone.</summary>
    public class SpfRuleTests
    {
        const string Rules =
            "allow:192.0.2.0/24:ALL:ALL\n" +
            "noto:ALL:SPF=fail:ALL:550 5.7.23 %F is not authorised\n" +
            "noto:ALL:SPF=softfail SPF=TempError:ALL:451 4.7.24 try again later\n" +
            "allow:ALL:ALL:*@example.test\n";

        static TxtDnsResolver Dns() => new TxtDnsResolver()
            .Txt("example.org", "v=spf1 ip4:198.51.100.0/24 -all")
            .Txt("soft.example.org", "v=spf1 ip4:198.51.100.0/24 ~all")
            .Txt("slow.example.org", "v=spf1 include:dead.example.org -all")
            .Silent("dead.example.org");

        static PolicyPipeline Pipeline(string rules = Rules, TimeSpan? timeout = null, SpfCheckMode mode = SpfCheckMode.Auto) =>
            new PolicyPipeline(new RuleEvaluator(RuleSet.Parse(rules)), new PolicyOptions
            {
                HostName = "mx.example.test",
                ReverseLookup = false,
                Spf = new SpfOptions { Timeout = timeout ?? TimeSpan.FromSeconds(20), Mode = mode },
            });

        static async Task<Verdict> RcptAsync(PolicyPipeline pipeline, PolicySession session, string from, string to = "<b@example.test>")
        {
            session.Greeted("mail.example.org", esmtp: true);
            var mail = pipeline.Mail(session, from, smtpUtf8: false);
            Assert.True(mail.TakesEffect);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            return await pipeline.RcptAsync(session, to, explain: true);
        }

        [Theory]
        [InlineData("198.51.100.7", "<a@example.org>", "250", null)]
        [InlineData("203.0.113.9", "<a@example.org>", "550 5.7.23 <a@example.org> is not authorised", "Fail")]
        [InlineData("203.0.113.9", "<a@soft.example.org>", "451 4.7.24 try again later", "SoftFail")]
        [InlineData("203.0.113.9", "<a@nospf.example.org>", "250", null)]
        [InlineData("192.0.2.5", "<a@example.org>", "250", null)]
        public async Task A_rule_acts_on_the_senders_result(string client, string from, string reply, string seen)
        {
            var pipeline = Pipeline();
            var verdict = await RcptAsync(pipeline, new PolicySession(IPAddress.Parse(client), new LiveFacts(Dns())), from);
            Assert.StartsWith(reply, verdict.Replies[0]);
            if (seen != null)
                Assert.Contains(verdict.Decision.Explanation, t => t.Note != null && t.Note.Contains("SPF " + seen));
        }

        [Fact]
        public async Task Own_network_lines_above_are_decided_without_waiting_for_spf()
        {
            // 192.0.2.5 matches line 1: the slow check is never waited for.
            var pipeline = Pipeline(timeout: TimeSpan.FromMinutes(5));
            var started = DateTime.UtcNow;
            var verdict = await RcptAsync(pipeline, new PolicySession(IPAddress.Parse("192.0.2.5"), new LiveFacts(Dns())), "<a@slow.example.org>");
            Assert.StartsWith("250", verdict.Replies[0]);
            Assert.True(DateTime.UtcNow - started < TimeSpan.FromMinutes(1));
        }

        [Fact]
        public async Task A_check_past_its_bound_is_TempError_never_Fail()
        {
            var pipeline = Pipeline(timeout: TimeSpan.FromMilliseconds(300));
            var session = new PolicySession(IPAddress.Parse("203.0.113.9"), new LiveFacts(Dns()));
            var verdict = await RcptAsync(pipeline, session, "<a@slow.example.org>");
            Assert.StartsWith("451 4.7.24", verdict.Replies[0]);
            var result = await session.Spf;
            Assert.Equal(SpfResult.TempError, result.Result);
            Assert.Contains("no result within 300 ms", result.Problem);
            Assert.Equal(result.ToString(), session.Results["spf"]);
        }

        [Fact]
        public async Task A_session_checks_one_sender_once_and_asks_again_after_a_TempError()
        {
            var dns = Dns();
            var pipeline = Pipeline();
            var session = new PolicySession(IPAddress.Parse("203.0.113.9"), new LiveFacts(dns));
            await RcptAsync(pipeline, session, "<a@example.org>");
            var asked = dns.Asked;
            session.EndTransaction();
            await RcptAsync(pipeline, session, "<a@example.org>", "<c@example.test>");
            Assert.Equal(asked, dns.Asked);
            session.EndTransaction();
            await RcptAsync(pipeline, session, "<other@example.org>");
            Assert.True(dns.Asked > asked, "another sender is another check");
        }

        [Fact]
        public async Task Rules_that_never_test_SPF_ask_DNS_nothing_for_it_unless_told_to()
        {
            var dns = Dns();
            var quiet = Pipeline("allow:ALL:ALL:ALL\n");
            Assert.False(quiet.ChecksSpf);
            var session = new PolicySession(IPAddress.Parse("203.0.113.9"), new LiveFacts(dns));
            await RcptAsync(quiet, session, "<a@example.org>");
            Assert.Null(session.Spf);
            Assert.Equal(0, dns.Asked);

            var always = Pipeline("allow:ALL:ALL:ALL\n", mode: SpfCheckMode.Always);
            session = new PolicySession(IPAddress.Parse("203.0.113.9"), new LiveFacts(dns));
            await RcptAsync(always, session, "<a@example.org>");
            Assert.Equal(SpfResult.Fail, (await always.SpfResultAsync(session)).Result);
        }

        [Fact]
        public async Task A_replay_from_the_record_alone_gives_the_same_refusal()
        {
            var pipeline = Pipeline();
            var session = new PolicySession(IPAddress.Parse("203.0.113.9"), new LiveFacts(Dns()));
            var verdict = await RcptAsync(pipeline, session, "<a@example.org>");
            var record = DecisionRecord.Of(session, verdict, pipeline);
            Assert.Contains(record.Facts, f => f.Name == "example.org" && f.RecordType == SmtpdModule.Engine.Lookup.DnsRecordType.TXT);
            Assert.StartsWith("Fail", record.Results["spf"]);

            var outcome = await DecisionReplay.RunAsync(record, pipeline);   // no fallback: no network
            Assert.True(outcome.SameReplies, string.Join(" / ", outcome.Verdict.Replies));
            Assert.Empty(outcome.Unrecorded);
        }

        [Theory]
        [InlineData("noto:ALL:SPF=failed:ALL\n", 14)]
        [InlineData("noto:ALL:ALL:SPF=fail\n", 14)]
        [InlineData("noto:SPF=fail:ALL:ALL\n", 6)]
        public void A_bad_SPF_token_is_an_error_at_its_column(string rules, int column)
        {
            var result = RuleFileParser.Parse(rules, "rules");
            var error = Assert.Single(result.Diagnostics, d => d.Code == RuleDiagnosticCodes.BadSpfToken);
            Assert.Equal(DiagnosticSeverity.Error, error.Severity);
            Assert.Equal(1, error.Line);
            Assert.Equal(column, error.Column);
        }
    }
}
