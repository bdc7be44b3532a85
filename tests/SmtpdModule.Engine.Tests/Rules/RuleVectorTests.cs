using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>
    /// Every conformance vector, scored as reference §8 says: exact agreement, except that
    /// failure-* vectors and those marked ours.loadError must be refused at load, and quirk
    /// vectors must differ from the original.
    /// </summary>
    public class RuleVectorTests
    {
        public static IEnumerable<object[]> Vectors => RuleVector.All().Select(v => new object[] { v });

        [Theory]
        [MemberData(nameof(Vectors))]
        public async Task Vector(RuleVector v)
        {
            if (v.ExpectLoadError)
            {
                var ex = Assert.Throws<RuleFileException>(() => RuleSet.Parse(v.Rules, "smtpd_check_rules"));
                Assert.True(ex.Line > 0, "the error names a line");
                Assert.True(ex.Column > 0, "the error names a column");
                return;
            }

            var decision = await Decide(v);
            var ours = (decision.Action.ToString().ToLowerInvariant(), decision.LineNumber, decision.Reply);
            var original = (v.Action, v.Line, v.Reply);
            if (v.ExpectDifferent)
                Assert.NotEqual(original, ours);
            else
                Assert.Equal(original, ours);
        }

        internal static async Task<RuleDecision> Decide(RuleVector v)
        {
            var ruleSet = RuleSet.Parse(v.Rules, "smtpd_check_rules");
            var options = new RuleEvaluationOptions { DefaultAction = v.DenyOnFailure ? DefaultAction.Deny : DefaultAction.Allow };
            var ruleSession = new RuleSession(new RuleLookups(v.Resolver()), new FixedIdentSource(v.Ident));
            var input = new RuleInput(IPAddress.Parse(v.Ip), v.Name, v.From, v.To, v.Helo);
            return await new RuleEvaluator(ruleSet, options).EvaluateAsync(input, ruleSession);
        }

        [Fact]
        public async Task An_unterminated_last_line_is_a_rule_like_any_other()
        {
            var d = await RuleCheck.Decide("allow:ALL:ALL:ALL\nnoto:ALL:ALL:ALL:550 no");
            Assert.Equal(RuleAction.Allow, d.Action);
            Assert.Equal(1, d.LineNumber);
            d = await RuleCheck.Decide("noto:ALL:ALL:ALL:550 " + new string('x', 2000));
            Assert.Equal(RuleAction.Noto, d.Action);
        }

        public static RuleVector Find(string id) => RuleVector.All().Single(x => x.Id == id);

        [Fact]
        public async Task Quirk_default_deny_renders_the_default_template_not_the_last_lines_message()
        {
            var d = await Decide(Find("file-default-deny-uses-last-lines-message"));
            Assert.Equal(RuleAction.Deny, d.Action);
            Assert.Null(d.LineNumber);
            Assert.Equal("550 Mail from <alice@example.org> to <bob@example.com> prohibited from your location (UNKNOWN@mail.example.org ip=192.0.2.10)", d.Reply);
        }

        [Fact]
        public async Task Quirk_a_peer_without_reverse_name_is_not_the_text_unknown()
        {
            var d = await Decide(Find("src-lowercase-unknown-glob"));
            Assert.Equal(RuleAction.Allow, d.Action);
            Assert.Equal(DecisionBasis.DefaultNoMatch, d.Basis);
        }

        [Fact]
        public async Task Quirk_ident_is_compared_literally_never_as_a_pattern()
        {
            var d = await Decide(Find("addr-user-ident-regex-injection"));
            Assert.Equal(RuleAction.Noto, d.Action);
            Assert.Equal(2, d.LineNumber);
        }
    }
}
