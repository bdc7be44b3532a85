using System.Linq;
using SmtpdModule.Engine.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>score: definitions and SCORE. tokens at load: what loads, and every error at its line and column.</summary>
    public class DnsblScoreParseTests
    {
        [Fact]
        public void A_definition_loads_with_weights_filters_and_a_comment()
        {
            var set = RuleSet.Parse(
                "score:spam:zen.test*3, b.test*2  wl.test=127.0.[0..255].[1..3]*-2 c.test :# Postfix-like\n" +
                "deny:SCORE.spam>=3:ALL:ALL\n" +
                "allow:ALL EXCEPT SCORE.SPAM>=-1:ALL:ALL\n", "rules");
            var score = Assert.Single(set.Scores);
            Assert.Equal(("spam", 1), (score.Name, score.LineNumber));
            Assert.Equal(new[] { ("zen.test", 3), ("b.test", 2), ("wl.test", -2), ("c.test", 1) }, score.Entries.Select(e => (e.Zone, e.Weight)));
            Assert.Equal("=127.0.[0..255].[1..3]", score.Entries[2].List.DnsblAnswerFilter.Text);
            Assert.Equal(2, set.Rules.Count);   // the definition is not a rule
            var token = (SourceToken)set.Rules[0].Source.Tokens[0];
            Assert.Same(score, token.Score.Definition);
            Assert.Equal(3, token.Score.Threshold);
            Assert.Same(score, ((SourceToken)set.Rules[1].Source.Except.Tokens[0]).Score.Definition);   // names are case-insensitive
            Assert.Equal(-1, ((SourceToken)set.Rules[1].Source.Except.Tokens[0]).Score.Threshold);
            // The health guard watches every zone a score names.
            Assert.Equal(new[] { "zen.test", "b.test", "wl.test", "c.test" }, DnsblZones.Of(set));
        }

        [Fact]
        public void A_score_token_is_never_filed_in_the_index()
        {
            var set = RuleSet.Parse("score:s:zen.test\ndeny:SCORE.s>=1:ALL:ALL\n", "rules");
            Assert.Equal(0, set.IndexedRuleCount);
        }

        [Theory]
        [InlineData("score:spam:zen.test*x\n", RuleDiagnosticCodes.BadScore, 1, 21)]
        [InlineData("score:spam:zen.test*0\n", RuleDiagnosticCodes.BadScore, 1, 21)]
        [InlineData("score:spam:zen.test*1001\n", RuleDiagnosticCodes.BadScore, 1, 21)]
        [InlineData("score:spam:a.test b.test*\n", RuleDiagnosticCodes.BadScore, 1, 26)]
        [InlineData("score:spam\n", RuleDiagnosticCodes.BadScore, 1, 1)]
        [InlineData("score:sp@m:a.test\n", RuleDiagnosticCodes.BadScore, 1, 7)]
        [InlineData("score:spam:a..test\n", RuleDiagnosticCodes.BadScore, 1, 12)]
        [InlineData("score:spam:a.test=127.0.0.[4..2]*2\n", RuleDiagnosticCodes.BadDnsblFilter, 1, 32)]
        [InlineData("score:spam:a.test:junk\n", RuleDiagnosticCodes.JunkAtEnd, 1, 18)]
        [InlineData("score:spam:a.test b.test*2\nscore:SPAM:c.test\n", RuleDiagnosticCodes.DuplicateScore, 2, 7)]
        [InlineData("deny:SCORE.spam>=3:ALL:ALL\n", RuleDiagnosticCodes.UndefinedScore, 1, 12)]
        [InlineData("deny:SCORE.spam>=3:ALL:ALL\nscore:spam:a.test\n", RuleDiagnosticCodes.UndefinedScore, 1, 12)]
        [InlineData("score:spam:a.test\ndeny:ALL EXCEPT SCORE.spam>=x:ALL:ALL\n", RuleDiagnosticCodes.BadScore, 2, 29)]
        [InlineData("score:spam:a.test\ndeny:SCORE.spam=3:ALL:ALL\n", RuleDiagnosticCodes.BadScore, 2, 12)]
        [InlineData("score:spam:a.test\ndeny:SCORE.sp!m>=3:ALL:ALL\n", RuleDiagnosticCodes.BadScore, 2, 12)]
        public void Bad_definitions_and_tokens_are_load_errors_at_their_column(string rules, string code, int line, int column)
        {
            var ex = Assert.Throws<RuleFileException>(() => RuleSet.Parse(rules, "smtpd_check_rules"));
            var e = Assert.Single(ex.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
            Assert.Equal((code, line, column), (e.Code, e.Line, e.Column));
            Assert.StartsWith("smtpd_check_rules:" + line + ":" + column + ": error: ", ex.Message);
        }

        [Fact]
        public void An_undefined_name_is_reported_on_every_line_that_uses_it()
        {
            var ex = Assert.Throws<RuleFileException>(() => RuleSet.Parse("deny:SCORE.x>=1:ALL:ALL\nnoto:SCORE.x>=1:ALL:ALL\n", "r"));
            Assert.Equal(new[] { 1, 2 }, ex.Diagnostics.Where(d => d.Code == RuleDiagnosticCodes.UndefinedScore).Select(d => d.Line));
        }

        [Fact]
        public void In_the_from_and_to_lists_SCORE_is_an_address_pattern_as_before()
        {
            var set = RuleSet.Parse("noto:ALL:ALL:SCORE.x>=1\n", "r");
            Assert.Equal("SCORE.x>=1", set.Rules[0].To.Tokens[0].Text);
        }
    }
}
