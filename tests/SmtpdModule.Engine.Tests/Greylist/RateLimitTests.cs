using System;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.Greylist
{
    /// <summary>Rate limits on the decision path: per network per minute, per SPF-proven sender, exempt
    /// networks, the window's end, a replay that counts as recorded.</summary>
    public class RateLimitTests
    {
        readonly FakeClock _clock = new FakeClock();
        readonly MemoryStateStore _store;

        public RateLimitTests() { _store = new MemoryStateStore(clock: _clock); }

        PolicyPipeline Pipeline(RateLimitOptions limits, string rules = "allow:ALL:ALL:ALL\n") =>
            new PolicyPipeline(new RuleEvaluator(RuleSet.Parse(rules)),
                               new PolicyOptions { HostName = "mx.example.test", ReverseLookup = false, RateLimits = limits, Spf = new SpfOptions { Mode = SpfCheckMode.Always } });

        PolicySession Session(string client) =>
            new PolicySession(IPAddress.Parse(client), new LiveFacts(new TxtDnsResolver().Txt("example.org", "v=spf1 ip4:198.51.100.0/24 -all"), null, _store)) { Clock = _clock };

        [Fact]
        public async Task Connections_per_minute_count_the_network_and_a_new_minute_starts_afresh()
        {
            var pipeline = Pipeline(new RateLimitOptions { ConnectionsPerMinute = 2 });
            Assert.Null(await pipeline.AdmitAsync(Session("198.51.100.1")));
            Assert.Null(await pipeline.AdmitAsync(Session("198.51.100.2")));
            var refused = await pipeline.AdmitAsync(Session("198.51.100.3"));
            Assert.Equal(VerdictKind.Close, refused.Kind);
            Assert.Equal("421 4.7.0 Too many connections from 198.51.100.0/24, try again later", refused.Replies[0].TrimEnd());
            Assert.Null(await pipeline.AdmitAsync(Session("203.0.113.1")));   // another network
            _clock.Advance(TimeSpan.FromMinutes(1));
            Assert.Null(await pipeline.AdmitAsync(Session("198.51.100.3")));
        }

        [Fact]
        public async Task Exempt_networks_are_never_limited()
        {
            var pipeline = Pipeline(new RateLimitOptions { ConnectionsPerMinute = 1, RecipientsPerMinute = 1, Exempt = { "198.51.100.0/24" } });
            for (int i = 0; i < 5; i++) Assert.Null(await pipeline.AdmitAsync(Session("198.51.100.9")));
        }

        static async Task<Verdict> RcptAsync(PolicyPipeline pipeline, PolicySession session, string from, string to)
        {
            session.Greeted("client.example.org", true);
            var mail = pipeline.Mail(session, from, false);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            var v = await pipeline.RcptAsync(session, to);
            session.EndTransaction();
            return v;
        }

        [Fact]
        public async Task Recipients_per_minute_defer_the_network_and_the_session_goes_on()
        {
            var pipeline = Pipeline(new RateLimitOptions { RecipientsPerMinute = 3, SenderRecipientsPerMinute = 0 });
            var session = Session("198.51.100.1");
            for (int i = 0; i < 3; i++) Assert.Equal(VerdictKind.Continue, (await RcptAsync(pipeline, session, "<a@example.org>", "<b" + i + "@example.test>")).Kind);
            var limited = await RcptAsync(pipeline, Session("198.51.100.77"), "<a@example.org>", "<b@example.test>");
            Assert.Equal(VerdictKind.TempFail, limited.Kind);
            Assert.StartsWith("450 4.7.1 Too many recipients from 198.51.100.0/24", limited.Replies[0]);
        }

        [Fact]
        public async Task A_sender_is_limited_only_when_SPF_proves_it()
        {
            var pipeline = Pipeline(new RateLimitOptions { RecipientsPerMinute = 0, SenderRecipientsPerMinute = 2 });
            // From its own servers the sender is proven and counted...
            for (int i = 0; i < 2; i++) Assert.Equal(VerdictKind.Continue, (await RcptAsync(pipeline, Session("198.51.100." + (i + 1)), "<news@example.org>", "<b@example.test>")).Kind);
            var limited = await RcptAsync(pipeline, Session("198.51.100.9"), "<NEWS@example.org>", "<c@example.test>");
            Assert.StartsWith("450 4.7.1 Too many recipients from <news@example.org>", limited.Replies[0]);
            // ...while a forger of the same address (SPF fail) cannot use up its limit, nor is held by it.
            Assert.Equal(VerdictKind.Continue, (await RcptAsync(pipeline, Session("203.0.113.5"), "<news@example.org>", "<d@example.test>")).Kind);
        }

        [Fact]
        public async Task A_replay_counts_as_the_record_did_and_raises_no_live_counter()
        {
            var pipeline = Pipeline(new RateLimitOptions { RecipientsPerMinute = 1, SenderRecipientsPerMinute = 0 });
            await RcptAsync(pipeline, Session("198.51.100.1"), "<a@example.org>", "<b@example.test>");
            var session = Session("198.51.100.2");
            session.Greeted("client.example.org", true);
            var mail = pipeline.Mail(session, "<a@example.org>", false);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            var limited = await pipeline.RcptAsync(session, "<b@example.test>");
            Assert.Equal(VerdictKind.TempFail, limited.Kind);
            var record = DecisionRecord.Of(session, limited, pipeline, recipient: "<b@example.test>");
            record.Time = _clock.UtcNow;
            var counted = await _store.ListAsync("rate:", 10);

            var replay = await DecisionReplay.RunAsync(record, pipeline);
            Assert.True(replay.SameReplies, string.Join(" / ", replay.Verdict.Replies));
            Assert.Equal(counted.Count, (await _store.ListAsync("rate:", 10)).Count);
            foreach (var e in counted) Assert.Equal(e.Value, await _store.GetAsync(e.Key));
        }
    }
}
