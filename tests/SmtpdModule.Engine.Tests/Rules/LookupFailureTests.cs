using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;
using static SmtpdModule.Engine.Tests.Rules.RuleCheck;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>
    /// What a lookup that fails means for a decision: the token does not match and the next lines
    /// decide, but a failure never accepts through the default action and never refuses for good
    /// where it could have hidden an acceptance (451 4.4.3 instead).
    /// </summary>
    public class LookupFailureTests
    {
        // The shape the docs recommend: a DNSBL, then our own domain for everybody, then the relay refusal.
        const string Recommended = "noto:RBL.bl.test:ALL:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n";
        const string Local = "<user@example.test>", Outside = "<victim@elsewhere.test>";

        static FactDnsResolver BlFailing() => new FactDnsResolver().Failing("10.2.0.192.bl.test");

        [Fact]
        public async Task A_failed_dnsbl_is_not_listed_and_the_next_lines_decide()
        {
            var local = await Decide(Recommended, to: Local, dns: BlFailing());
            Assert.Equal(RuleAction.Allow, local.Action);
            Assert.Equal(2, local.LineNumber);
            Assert.Contains("line 1", local.FailureReason);

            var outside = await Decide(Recommended, to: Outside, dns: BlFailing());
            Assert.Equal(RuleAction.Noto, outside.Action);
            Assert.Equal(3, outside.LineNumber);
            Assert.Equal("550 no relay", outside.Reply);
        }

        [Theory]
        [InlineData(DefaultAction.Allow)]
        [InlineData(DefaultAction.Deny)]
        public async Task With_no_relay_line_a_failure_defers_instead_of_taking_the_default(DefaultAction defaultAction)
        {
            var rules = "noto:RBL.bl.test:ALL:ALL\nallow:ALL:ALL:*@example.test\n";
            var outside = await Decide(rules, to: Outside, dns: BlFailing(), defaultAction: defaultAction);
            Assert.Equal(RuleAction.Defer, outside.Action);
            Assert.StartsWith("451 4.4.3 ", outside.Reply);
            Assert.Null(outside.LineNumber);

            // Without a failure the default still applies, as in the original.
            var clean = await Decide(rules, to: Outside, dns: new FactDnsResolver(), defaultAction: defaultAction);
            Assert.Equal(defaultAction == DefaultAction.Deny ? RuleAction.Deny : RuleAction.Allow, clean.Action);
            Assert.Equal(DecisionBasis.DefaultNoMatch, clean.Basis);
        }

        [Fact]
        public async Task A_refusal_below_an_acceptance_a_failure_hid_is_deferred_not_final()
        {
            // Line 1 would let our own relay through if its name servers answered: refusing it for good
            // with 550 would bounce good mail, accepting would open the relay.
            var dns = new FactDnsResolver().Failing("relay.example.org");
            var d = await Decide("allow:NS=*.example.org:ALL:ALL\nnoto:ALL:ALL:ALL:550 no relay\n",
                name: "relay.example.org", to: Outside, dns: dns);
            Assert.Equal(RuleAction.Defer, d.Action);
            Assert.Equal(2, d.LineNumber);
            Assert.Contains("line 1", d.FailureReason);
        }

        [Fact]
        public async Task A_refusal_that_matched_only_because_a_lookup_failed_is_deferred()
        {
            var dns = new FactDnsResolver().Failing("10.2.0.192.ok.test");
            var d = await Decide("deny:ALL EXCEPT RBL.ok.test:ALL:ALL\nallow:ALL:ALL:ALL\n", to: Local, dns: dns);
            Assert.Equal(RuleAction.Defer, d.Action);
            Assert.Equal(1, d.LineNumber);
        }

        [Fact]
        public async Task A_line_another_list_settles_is_not_made_uncertain_by_a_failure()
        {
            // Line 1's exclusion fails, but its recipient list does not match an outside address, so
            // the line is certainly passed over and the relay refusal is final.
            var rules = "allow:ALL EXCEPT RBL.bl.test:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n";
            var outside = await Decide(rules, to: Outside, dns: BlFailing());
            Assert.Equal(RuleAction.Noto, outside.Action);
            Assert.Equal("550 no relay", outside.Reply);

            var local = await Decide(rules, to: Local, dns: BlFailing());
            Assert.Equal(RuleAction.Allow, local.Action);   // not listed, as the original read a failure
            Assert.Equal(1, local.LineNumber);
        }

        [Fact]
        public async Task A_token_that_matches_for_certain_outweighs_one_that_failed()
        {
            var dns = BlFailing().A("10.2.0.192.other.test", "127.0.0.2");
            var d = await Decide("noto:RBL.bl.test RBL.other.test:ALL:ALL:550 listed\nallow:ALL:ALL:ALL\n", dns: dns);
            Assert.Equal(RuleAction.Noto, d.Action);
            Assert.Equal(1, d.LineNumber);
        }

        [Fact]
        public async Task With_OnLookupFailure_Defer_any_failure_on_the_way_defers()
        {
            var local = await Decide(Recommended, to: Local, dns: BlFailing(), onFailure: LookupFailurePolicy.Defer);
            Assert.Equal(RuleAction.Defer, local.Action);
            var outside = await Decide(Recommended, to: Outside, dns: BlFailing(), onFailure: LookupFailurePolicy.Defer);
            Assert.Equal(RuleAction.Defer, outside.Action);
            // Lines before the failure still decide as usual.
            var early = await Decide("allow:192.0.2.10:ALL:ALL\n" + Recommended, to: Outside, dns: BlFailing(), onFailure: LookupFailurePolicy.Defer);
            Assert.Equal(RuleAction.Allow, early.Action);
            Assert.Null(early.FailureReason);
        }

        [Theory]
        [InlineData("noto:UNKNOWN:ALL:ALL\n", 0)]              // not known whether it has a name: passed over
        [InlineData("noto:KNOWN:ALL:ALL\n", 0)]
        [InlineData("noto:*.example.org:ALL:ALL\n", 0)]
        [InlineData("noto:NS=ALL:ALL:ALL\n", 0)]
        [InlineData("noto:ALL:ALL:ALL\n", 1)]                  // ALL needs no name
        [InlineData("noto:192.0.2.0/24:ALL:ALL\n", 1)]         // the address is known for certain
        [InlineData("noto:*.example.org 192.0.2.10:ALL:ALL\n", 1)]
        public async Task A_failed_reverse_lookup_leaves_every_test_of_the_name_unknown(string line1, int decidingLine)
        {
            var rules = line1 + "allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n";
            var d = await Decide(rules, name: null, to: Local, reverseFailed: true);
            if (decidingLine == 1)
            {
                Assert.Equal(1, d.LineNumber);
                Assert.Null(d.FailureReason);
            }
            else
            {
                Assert.Equal(RuleAction.Allow, d.Action);
                Assert.Equal(2, d.LineNumber);
                Assert.Contains("reverse lookup", d.FailureReason);
            }
            var outside = await Decide(rules, name: null, to: Outside, reverseFailed: true);
            Assert.NotEqual(RuleAction.Allow, outside.Action);
        }

        [Fact]
        public async Task An_acceptance_by_name_is_never_given_when_the_name_is_unknown()
        {
            var d = await Decide("allow:KNOWN:ALL:ALL\nnoto:ALL:ALL:ALL\n", name: null, to: Outside, reverseFailed: true);
            Assert.Equal(RuleAction.Defer, d.Action);
        }

        [Fact]
        public async Task Explain_shows_the_failed_line_and_why_it_was_passed_over()
        {
            var d = await Decide(Recommended, to: Local, dns: BlFailing(), explain: true);
            var first = d.Explanation.First();
            Assert.Equal(1, first.LineNumber);
            Assert.Equal(RuleTraceResult.Failed, first.Result);
            Assert.Contains("10.2.0.192.bl.test", first.Note);
            Assert.Contains("passed over", first.Note);
            Assert.Equal(RuleTraceResult.Decided, d.Explanation[1].Result);
        }

        [Fact]
        public async Task The_indexed_scan_and_the_explained_scan_agree_on_failures()
        {
            foreach (var to in new[] { Local, Outside })
            {
                var fast = await Decide(Recommended, to: to, dns: BlFailing());
                var slow = await Decide(Recommended, to: to, dns: BlFailing(), explain: true);
                Assert.Equal(fast.Action, slow.Action);
                Assert.Equal(fast.LineNumber, slow.LineNumber);
            }
        }
    }
}
