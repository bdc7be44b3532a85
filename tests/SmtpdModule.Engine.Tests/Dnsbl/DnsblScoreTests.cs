using System;
using System.Linq;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>SCORE. tokens deciding: weights add up, allowlists subtract, failures never open the door.</summary>
    public class DnsblScoreTests
    {
        const string Rules =
            "score:spam:zen.test*3 b.test*2 wl.test=127.0.[0..255].[1..3]*-2\n" +
            "deny:SCORE.spam>=3:ALL:ALL\n" +
            "allow:ALL:ALL:ALL\n";

        // The client is 192.0.2.10.
        static FactDnsResolver Lists(string zen = null, string b = null, string wl = null)
        {
            var dns = new FactDnsResolver();
            if (zen != null) dns.A("10.2.0.192.zen.test", zen);
            if (b != null) dns.A("10.2.0.192.b.test", b);
            if (wl != null) dns.A("10.2.0.192.wl.test", wl);
            return dns;
        }

        [Fact]
        public async Task Two_weighted_listings_reach_the_threshold_and_the_decision_shows_them()
        {
            var d = await RuleCheck.Decide(Rules, dns: Lists(zen: "127.0.0.4", b: "127.0.0.2"));
            Assert.Equal((RuleAction.Deny, 2), (d.Action, d.LineNumber.Value));
            Assert.Equal(5, d.Score);
            Assert.Equal("spam: zen.test=127.0.0.4 +3, b.test=127.0.0.2 +2 = 5 (threshold 3)", d.ScoreDetail);
        }

        [Fact]
        public async Task An_allowlist_takes_its_weight_off()
        {
            var d = await RuleCheck.Decide(Rules, dns: Lists(zen: "127.0.0.4", wl: "127.0.10.2"));
            Assert.Equal((RuleAction.Allow, 3), (d.Action, d.LineNumber.Value));
            Assert.Equal(1, d.Score);
            Assert.Equal("spam: zen.test=127.0.0.4 +3, wl.test=127.0.10.2 -2 = 1", d.ScoreDetail);
        }

        [Fact]
        public async Task An_answer_outside_an_entry_filter_adds_nothing()
        {
            var d = await RuleCheck.Decide(Rules, dns: Lists(zen: "127.0.0.4", wl: "127.0.10.0"));
            Assert.Equal(RuleAction.Deny, d.Action);
            Assert.Equal(3, d.Score);
        }

        [Fact]
        public async Task A_client_listed_nowhere_scores_zero_and_each_zone_is_asked_once()
        {
            var dns = Lists();
            var d = await RuleCheck.Decide(Rules + "noto:ALL EXCEPT SCORE.spam>=1:ALL:x@y\n", dns: dns);
            Assert.Equal(RuleAction.Allow, d.Action);
            Assert.Equal(0, d.Score);
            Assert.Equal("spam: listed nowhere = 0", d.ScoreDetail);
            Assert.Equal(new[] { "A 10.2.0.192.zen.test", "A 10.2.0.192.b.test", "A 10.2.0.192.wl.test" }.OrderBy(x => x), dns.Asked.OrderBy(x => x));
        }

        [Fact]
        public async Task The_token_works_inside_EXCEPT()
        {
            var rules = "score:spam:zen.test*3\nallow:ALL EXCEPT SCORE.spam>=3:ALL:ALL\n";
            Assert.Equal(RuleAction.Noto, (await RuleCheck.Decide(rules + "noto:ALL:ALL:ALL\n", dns: Lists(zen: "127.0.0.2"))).Action);
            Assert.Equal(RuleAction.Allow, (await RuleCheck.Decide(rules + "noto:ALL:ALL:ALL\n", dns: Lists())).Action);
        }

        [Fact]
        public async Task A_failed_blocklist_that_could_reach_the_threshold_counts_as_not_listed_as_RBL_does()
        {
            // OnLookupFailure NoMatch (the default): the failed list adds 0, like a failed RBL. token; the
            // deny line is passed over and the failure is reported with the decision.
            var dns = Lists(b: "127.0.0.2").Failing("10.2.0.192.zen.test");
            var d = await RuleCheck.Decide(Rules, dns: dns, explain: true);
            Assert.Equal((RuleAction.Allow, 3), (d.Action, d.LineNumber.Value));
            Assert.Equal(2, d.Score);
            Assert.Contains("zen.test failed 0", d.ScoreDetail);
            Assert.Contains("2 to 5 had the failed lookups answered", d.ScoreDetail);
            Assert.Contains("DNSBL lookup 10.2.0.192.zen.test failed", d.FailureReason);
            Assert.Equal(RuleTraceResult.Failed, d.Explanation.Single(t => t.LineNumber == 2).Result);
        }

        [Fact]
        public async Task A_failed_blocklist_never_opens_the_door_when_no_line_decides_for_certain()
        {
            // Without the allow line the default (allow) would be reached only because of the failure: deferred.
            var dns = Lists(b: "127.0.0.2").Failing("10.2.0.192.zen.test");
            var d = await RuleCheck.Decide("score:spam:zen.test*3 b.test*2\ndeny:SCORE.spam>=3:ALL:ALL\n", dns: dns);
            Assert.Equal(RuleAction.Defer, d.Action);
            Assert.Equal(RuleDecision.DeferReply, d.Reply);
            // With OnLookupFailure Defer the allow line does not help either.
            var strict = await RuleCheck.Decide(Rules, dns: dns, onFailure: LookupFailurePolicy.Defer);
            Assert.Equal(RuleAction.Defer, strict.Action);
        }

        [Fact]
        public async Task A_failure_that_cannot_change_the_outcome_decides_for_certain()
        {
            // zen failed (+3 at most), the allowlist answered (-2): at most 1, below 3 either way.
            var below = await RuleCheck.Decide(Rules, dns: Lists(wl: "127.0.10.2").Failing("10.2.0.192.zen.test"));
            Assert.Equal((RuleAction.Allow, 3), (below.Action, below.LineNumber.Value));
            Assert.Null(below.FailureReason);
            // The allowlist failed (-2 at least), the blocklists answered 5: at least 3.
            var above = await RuleCheck.Decide(Rules, dns: Lists(zen: "127.0.0.2", b: "127.0.0.2").Failing("10.2.0.192.wl.test"));
            Assert.Equal(RuleAction.Deny, above.Action);
        }

        [Fact]
        public async Task A_failure_that_cannot_matter_does_not_defer_even_with_OnLookupFailure_Defer()
        {
            var d = await RuleCheck.Decide(Rules, dns: Lists(wl: "127.0.10.2").Failing("10.2.0.192.zen.test"), onFailure: LookupFailurePolicy.Defer);
            Assert.Equal(RuleAction.Allow, d.Action);   // certain: the score could not reach 3, so nothing failed for the rules
        }

        [Fact]
        public async Task Explain_says_the_score_on_the_line_that_tests_it()
        {
            var d = await RuleCheck.Decide(Rules, dns: Lists(zen: "127.0.0.4", wl: "127.0.10.2"), explain: true);
            var line = d.Explanation.Single(t => t.LineNumber == 2);
            Assert.Equal(RuleTraceResult.NoMatch, line.Result);
            Assert.Contains("SCORE.spam>=3: zen.test=127.0.0.4 +3, wl.test=127.0.10.2 -2 = 1, below 3", line.Note);
        }

        [Fact]
        public async Task An_unhealthy_zone_adds_nothing_and_is_not_asked()
        {
            var dns = Lists(zen: "127.0.0.2", b: "127.0.0.2");
            var session = new RuleSession(new RuleLookups(dns), null,
                (key, _) => Task.FromResult(key == DnsblHealth.StateKey("zen.test") ? "ListsEverything lists 127.0.0.1" : null));
            var input = new RuleInput(IPAddress.Parse("192.0.2.10"), "mail.example.org", "<a@example.org>", "<b@example.com>");
            var d = await new RuleEvaluator(RuleSet.Parse(Rules, "rules")).EvaluateAsync(input, session);
            Assert.Equal(RuleAction.Allow, d.Action);
            Assert.Equal("spam: zen.test unhealthy 0, b.test=127.0.0.2 +2 = 2", d.ScoreDetail);
            Assert.DoesNotContain("A 10.2.0.192.zen.test", dns.Asked);
        }

        [Fact]
        public async Task A_score_zones_are_asked_at_the_same_time()
        {
            // Each answer waits until all three questions are in flight: asked one after another, the first would time out.
            var gate = new GateResolver(Lists(zen: "127.0.0.2", b: "127.0.0.2"), 3);
            var session = new RuleSession(new RuleLookups(gate));
            var input = new RuleInput(IPAddress.Parse("192.0.2.10"), "mail.example.org", "<a@example.org>", "<b@example.com>");
            var d = await new RuleEvaluator(RuleSet.Parse(Rules, "rules")).EvaluateAsync(input, session);
            Assert.Equal((RuleAction.Deny, 5), (d.Action, d.Score.Value));
        }

        sealed class GateResolver : IDnsResolver
        {
            readonly IDnsResolver _inner;
            readonly int _expected;
            readonly TaskCompletionSource<bool> _all = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            int _inFlight;
            public GateResolver(IDnsResolver inner, int expected) { _inner = inner; _expected = expected; }

            public async Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                if (Interlocked.Increment(ref _inFlight) == _expected) _all.TrySetResult(true);
                if (await Task.WhenAny(_all.Task, Task.Delay(TimeSpan.FromSeconds(5))) != _all.Task) return DnsAnswer.Failed("asked alone");
                return await _inner.QueryAsync(name, type, cancellationToken);
            }
        }
    }
}
