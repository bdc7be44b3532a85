using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.Greylist
{
    /// <summary>
    /// grey lines on the one decision path, against the embedded store and a clock the test moves:
    /// the first try and early retries are refused, a retry after the delay goes on to the next line,
    /// the network (or an SPF-passing domain) is the key, greytraps, auto-allow, a store that fails,
    /// and a replay that decides at the record's time.
    /// </summary>
    public class GreylistRuleTests
    {
        const string Rules =
            "allow:192.0.2.0/24:ALL:ALL\n" +
            "grey:ALL:ALL:ALL\n" +
            "allow:ALL:ALL:*@example.test\n" +
            "noto:ALL:ALL:ALL:550 5.7.1 relaying denied\n";

        readonly FakeClock _clock = new FakeClock();
        readonly MemoryStateStore _store;
        readonly List<string> _failures = new List<string>();
        readonly GreylistOptions _options = new GreylistOptions { Greytraps = { "trap@example.test" } };

        public GreylistRuleTests() { _store = new MemoryStateStore(clock: _clock); }

        static TxtDnsResolver Dns() => new TxtDnsResolver()
            .Txt("pool.example.org", "v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 -all");

        PolicyPipeline Pipeline(string rules = Rules, IStateStore store = null) =>
            new PolicyPipeline(new RuleEvaluator(RuleSet.Parse(rules), new RuleEvaluationOptions { Greylist = _options }),
                               new PolicyOptions { HostName = "mx.example.test", ReverseLookup = false },
                               greylist: new GreylistRecorder(store ?? _store, _options, _failures.Add));

        PolicySession Session(string client, IStateStore store = null) =>
            new PolicySession(IPAddress.Parse(client), new LiveFacts(Dns(), null, store ?? _store)) { Clock = _clock };

        static async Task<Verdict> SendAsync(PolicyPipeline pipeline, PolicySession session, string from, string to = "<b@example.test>")
        {
            session.Greeted("client.example.org", esmtp: true);
            var mail = pipeline.Mail(session, from, smtpUtf8: false);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            var v = await pipeline.RcptAsync(session, to, explain: true);
            session.EndTransaction();
            return v;
        }

        Task<Verdict> TryAsync(string client, string from = "<a@example.org>", string to = "<b@example.test>", PolicyPipeline pipeline = null) =>
            SendAsync(pipeline ?? Pipeline(), Session(client), from, to);

        [Fact]
        public async Task A_first_try_and_an_early_retry_are_deferred_and_a_retry_after_the_delay_goes_on()
        {
            var first = await TryAsync("198.51.100.7");
            Assert.Equal(VerdictKind.TempFail, first.Kind);
            Assert.Equal("450 4.7.1 Greylisted, please try again in 5 minutes", first.Replies[0]);
            Assert.Equal(GreylistState.FirstSeen, first.Decision.Greylist.State);

            _clock.Advance(TimeSpan.FromSeconds(90));
            var early = await TryAsync("198.51.100.7");
            Assert.Equal("450 4.7.1 Greylisted, please try again in 4 minutes", early.Replies[0]);
            Assert.Equal(GreylistState.TooEarly, early.Decision.Greylist.State);

            _clock.Advance(TimeSpan.FromMinutes(4));
            var passed = await TryAsync("198.51.100.7");
            Assert.Equal(VerdictKind.Continue, passed.Kind);
            Assert.Equal(3, passed.Decision.LineNumber);
            Assert.Equal(GreylistState.Passed, passed.Decision.Greylist.State);
            Assert.Contains(passed.Decision.Explanation, t => t.Result == RuleTraceResult.GreyPassed && t.LineNumber == 2);

            _clock.Advance(TimeSpan.FromDays(20));
            var proven = await TryAsync("198.51.100.7");
            Assert.Equal(VerdictKind.Continue, proven.Kind);
            Assert.Equal(GreylistState.Proven, proven.Decision.Greylist.State);
            Assert.Empty(_failures);
        }

        [Fact]
        public async Task Another_address_of_the_same_network_shares_the_triplet_and_another_network_does_not()
        {
            await TryAsync("198.51.100.7");
            _clock.Advance(TimeSpan.FromMinutes(6));
            Assert.Equal(VerdictKind.Continue, (await TryAsync("198.51.100.200")).Kind);
            Assert.Equal(GreylistState.FirstSeen, (await TryAsync("203.0.113.5")).Decision.Greylist.State);
        }

        [Fact]
        public async Task A_sender_whose_SPF_passes_is_keyed_by_its_domain_so_its_pool_retries_from_anywhere()
        {
            var first = await TryAsync("198.51.100.7", "<bounce@pool.example.org>");
            Assert.Equal("d:pool.example.org", first.Decision.Greylist.Identity);
            _clock.Advance(TimeSpan.FromMinutes(6));
            var retry = await TryAsync("203.0.113.99", "<bounce@pool.example.org>");
            Assert.Equal(VerdictKind.Continue, retry.Kind);
            Assert.Equal(GreylistState.Passed, retry.Decision.Greylist.State);
        }

        [Fact]
        public async Task A_grey_line_above_the_relay_refusal_never_lets_a_retried_stranger_relay()
        {
            await TryAsync("198.51.100.7", to: "<victim@elsewhere.example>");
            _clock.Advance(TimeSpan.FromMinutes(6));
            var retry = await TryAsync("198.51.100.7", to: "<victim@elsewhere.example>");
            Assert.Equal(VerdictKind.Reject, retry.Kind);
            Assert.Equal("550 5.7.1 relaying denied", retry.Replies[0]);
            Assert.Equal(4, retry.Decision.LineNumber);
        }

        [Fact]
        public async Task A_greytrap_hit_refuses_that_address_for_a_day_and_not_its_network()
        {
            // Proven first, so the later refusal is the trap's, not the triplet's.
            await TryAsync("198.51.100.7");
            _clock.Advance(TimeSpan.FromMinutes(6));
            Assert.Equal(VerdictKind.Continue, (await TryAsync("198.51.100.7")).Kind);

            var hit = await TryAsync("198.51.100.7", to: "<TRAP@example.test>");
            Assert.True(hit.Decision.Greylist.TrapHit);
            var trapped = await TryAsync("198.51.100.7");
            Assert.Equal(VerdictKind.TempFail, trapped.Kind);
            Assert.Equal(GreylistState.Trapped, trapped.Decision.Greylist.State);
            Assert.Equal(VerdictKind.Continue, (await TryAsync("198.51.100.8")).Kind);

            _clock.Advance(TimeSpan.FromDays(1));
            Assert.Equal(VerdictKind.Continue, (await TryAsync("198.51.100.7")).Kind);
        }

        [Fact]
        public async Task An_auto_allowed_client_is_not_greylisted_and_not_trapped()
        {
            for (int i = 0; i < _options.AutoAllowAfter; i++)
            {
                await TryAsync("198.51.100.7", "<s" + i + "@example.org>");
                _clock.Advance(TimeSpan.FromMinutes(6));
                Assert.Equal(GreylistState.Passed, (await TryAsync("198.51.100.7", "<s" + i + "@example.org>")).Decision.Greylist.State);
            }
            var fresh = await TryAsync("198.51.100.9", "<new@example.org>");
            Assert.Equal(VerdictKind.Continue, fresh.Kind);
            Assert.Equal(GreylistState.AutoAllowed, fresh.Decision.Greylist.State);
            var trap = await TryAsync("198.51.100.9", "<new@example.org>", "<trap@example.test>");
            Assert.False(trap.Decision.Greylist.TrapHit);
        }

        [Fact]
        public async Task A_store_that_cannot_be_reached_lets_the_mail_through_and_says_so()
        {
            var broken = new BrokenStateStore();
            var v = await SendAsync(Pipeline(store: broken), Session("198.51.100.7", broken), "<a@example.org>");
            Assert.Equal(VerdictKind.Continue, v.Kind);
            Assert.Equal(GreylistState.Unavailable, v.Decision.Greylist.State);
            Assert.Contains(v.Decision.Explanation, t => t.Note != null && t.Note.Contains("store down"));
        }

        [Fact]
        public async Task With_fail_mode_Closed_a_store_that_cannot_be_reached_defers()
        {
            _options.FailMode = StateFailMode.Closed;
            var broken = new BrokenStateStore();
            var v = await SendAsync(Pipeline(store: broken), Session("198.51.100.7", broken), "<a@example.org>");
            Assert.Equal(VerdictKind.TempFail, v.Kind);
            Assert.Equal("451 4.3.0 Greylisting is unavailable, please try again later", v.Replies[0]);
        }

        [Fact]
        public async Task A_replay_decides_at_the_records_time_from_its_facts()
        {
            await TryAsync("198.51.100.7");
            _clock.Advance(TimeSpan.FromMinutes(1));
            var pipeline = Pipeline();
            var session = Session("198.51.100.7");
            session.Greeted("client.example.org", true);
            var mail = pipeline.Mail(session, "<a@example.org>", false);
            pipeline.BeginTransaction(session, mail.Path, false, null);
            var early = await pipeline.RcptAsync(session, "<b@example.test>");
            var record = DecisionRecord.Of(session, early, pipeline);
            record.Time = _clock.UtcNow;

            _clock.Advance(TimeSpan.FromDays(1));   // live, the triplet would have passed (or expired) by now
            var replay = await DecisionReplay.RunAsync(record, Pipeline());
            Assert.True(replay.SameReplies, string.Join(" / ", replay.Verdict.Replies));
            Assert.Empty(replay.Unrecorded);
        }

        [Fact]
        public void Grey_is_a_rules_action_and_a_grey_line_shadows_nothing()
        {
            var result = RuleFileParser.Parse("grey:ALL:ALL:ALL\nallow:ALL:ALL:ALL\n", "rules");
            Assert.False(result.HasErrors);
            Assert.DoesNotContain(result.Diagnostics, d => d.Code == RuleDiagnosticCodes.Shadowed);
            Assert.Equal(RuleVerb.Grey, result.Rules[0].Verb);
            Assert.Equal(RuleAction.Grey, result.Rules[0].Action);
        }

        sealed class BrokenStateStore : IStateStore
        {
            static Task<T> Down<T>() => Task.FromException<T>(new InvalidOperationException("store down"));
            public Task<string> GetAsync(string key, CancellationToken cancellationToken = default) => Down<string>();
            public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default) => Down<bool>();
            public Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default) => Down<bool>();
            public Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default) => Down<long>();
            public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default) => Down<bool>();
            public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default) => Down<IReadOnlyList<StateEntry>>();
        }
    }
}
