using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using Xunit;
using static SmtpdModule.Engine.Tests.Rules.RuleCheck;

namespace SmtpdModule.Engine.Tests.Rules
{
    public class ReplyTemplateTests
    {
        [Theory]
        [InlineData("550 %F %T %H %I %U %% %C", "550 <alice@example.org> <bob@example.com> mail.example.org 192.0.2.10 UNKNOWN % :")]
        [InlineData("no digit", ReplyTemplate.Fallback)]
        [InlineData("550 bad %x", ReplyTemplate.Fallback)]
        [InlineData("550 end %", ReplyTemplate.Fallback)]
        [InlineData("250 ok but dropped", "250 ok but dropped")]   // sent as written (a warning at load)
        public async Task Renders(string template, string reply)
        {
            var d = await Decide("noto:ALL:ALL:ALL:" + template + "\n");
            Assert.Equal(reply, d.Reply);
        }

        [Fact]
        public async Task Reply_is_cut_at_511_characters_and_a_bad_code_beyond_the_cut_goes_unnoticed()
        {
            var longText = "550 " + new string('x', 600) + " %q";
            var d = await Decide("noto:ALL:ALL:ALL:" + longText + "\n");
            Assert.Equal(511, d.Reply.Length);
            Assert.StartsWith("550 xxx", d.Reply);
        }

        [Fact]
        public async Task Substitutions_count_toward_the_cap()
        {
            var to = "<" + new string('a', 600) + "@example.com>";
            var d = await Decide("noto:ALL:ALL:ALL:550 %T\n", to: to);
            Assert.Equal(511, d.Reply.Length);
        }

        [Fact]
        public async Task Delays_report_their_base_action_and_the_wait()
        {
            var d = await Decide("deny_delay:ALL:ALL:ALL:550 go\n");
            Assert.Equal(RuleAction.Deny, d.Action);
            Assert.Equal(RuleVerb.DenyDelay, d.Verb);
            Assert.True(d.Delay.TotalSeconds > 0);
        }

        [Fact]
        public async Task Debug_lines_are_recorded_and_passed()
        {
            var d = await Decide("debug:ALL:ALL:ALL\ndebug:nomatch.test:ALL:ALL\nnoto:ALL:ALL:ALL:550 x\n");
            Assert.Equal(new[] { 1 }, d.DebugLines);
            Assert.Equal(3, d.LineNumber);
        }

        [Fact]
        public async Task Explain_says_why_each_line_did_or_did_not_match()
        {
            var d = await Decide("noto:*.other.test:ALL:ALL\nnoto:ALL:*@spam.test:ALL\nallow:ALL:ALL:*@example.com\nnoto:ALL:ALL:ALL\n", explain: true);
            Assert.Equal(4, d.Explanation.Count);
            Assert.Equal(RuleTraceResult.NoMatch, d.Explanation[0].Result);
            Assert.Equal(RuleListKind.Source, d.Explanation[0].FailedList);
            Assert.Equal(RuleListKind.From, d.Explanation[1].FailedList);
            Assert.Equal(RuleTraceResult.Decided, d.Explanation[2].Result);
            Assert.Equal("source=ALL; from=ALL; to=*@example.com", d.Explanation[2].MatchedToken);
            Assert.Equal(RuleTraceResult.NotReached, d.Explanation[3].Result);
        }
    }
}
