using System.Linq;
using SmtpdModule.Engine.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    public class RuleFileParserTests
    {
        static RuleParseResult Parse(string text) => RuleFileParser.Parse(text, "smtpd_check_rules");

        [Theory]
        [InlineData("allow:ALL:ALL\n", RuleDiagnosticCodes.BadFieldCount, 1, 1)]
        [InlineData("# c\nnoto:ALL:ALL:ALL:550 see http://x\n", RuleDiagnosticCodes.JunkAtEnd, 2, 30)]
        [InlineData("allow:ALL:ALL:ALL\nAllow:ALL:ALL:ALL\n", RuleDiagnosticCodes.UnknownAction, 2, 1)]
        [InlineData("noto:ALL:/[a-/:ALL\n", RuleDiagnosticCodes.InvalidRegex, 1, 10)]
        [InlineData("   allow :ALL:ALL:ALL\n", RuleDiagnosticCodes.UnknownAction, 1, 1)]
        public void Errors_name_line_and_column(string text, string code, int line, int column)
        {
            var r = Parse(text);
            var e = Assert.Single(r.Diagnostics, d => d.Severity == DiagnosticSeverity.Error);
            Assert.Equal((code, line, column), (e.Code, e.Line, e.Column));
            var ex = Assert.Throws<RuleFileException>(() => RuleSet.Parse(text, "smtpd_check_rules"));
            Assert.StartsWith("smtpd_check_rules:" + line + ":" + column + ": error: ", ex.Message);
        }

        [Fact]
        public void Every_error_in_the_file_is_reported()
        {
            var r = Parse("bogus:ALL:ALL:ALL\nallow:ALL\nnoto:ALL:ALL:ALL:550 a:b\n");
            Assert.Equal(new[] { 1, 2, 3 }, r.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.Line));
        }

        [Fact]
        public void Crlf_a_missing_last_newline_blank_and_indented_comment_lines_are_fine()
        {
            var set = RuleSet.Parse("# head\r\n\r\n   \t\r\n   # indented\r\nallow:ALL:ALL:bob@example.com\r\nnoto:ALL:ALL:ALL:550 x");
            Assert.Equal(2, set.Rules.Count);
            Assert.Equal(5, set.Rules[0].LineNumber);
            Assert.Equal("bob@example.com", set.Rules[0].To.Tokens[0].Text);
            Assert.Equal("550 x", set.Rules[1].Message.Text);
        }

        [Fact]
        public void Empty_fields_vanish()
        {
            var set = RuleSet.Parse("deny:ALL::x@y:ALL:\n");
            Assert.Equal("x@y", set.Rules[0].From.Text);
        }

        [Fact]
        public void A_long_line_is_fine()
        {
            var tokens = string.Join(",", Enumerable.Range(0, 5000).Select(i => "u" + i + "@example.test"));
            var set = RuleSet.Parse("noto:ALL:ALL:" + tokens + "\n");
            Assert.Equal(5000, set.Rules[0].To.Tokens.Count);
        }

        [Theory]
        [InlineData("allow:192.168.1:ALL:ALL\n", RuleDiagnosticCodes.NeverMatches, 7)]
        [InlineData("allow:10.0.0.0/33:ALL:ALL\n", RuleDiagnosticCodes.NeverMatches, 7)]
        [InlineData("allow:1.2.3.256:ALL:ALL\n", RuleDiagnosticCodes.NeverMatches, 7)]
        [InlineData("allow:ALL:ALL:EXCEPT a@b\n", RuleDiagnosticCodes.NeverMatches, 15)]
        [InlineData("noto:ALL:ALL:ALL:go away\n", RuleDiagnosticCodes.BogusTemplate, 18)]
        [InlineData("noto:ALL:ALL:ALL:550 %f\n", RuleDiagnosticCodes.BogusTemplate, 18)]
        [InlineData("noto:ALL:ALL:ALL:250 ok\n", RuleDiagnosticCodes.BogusTemplate, 18)]
        [InlineData("noto:ALL:ALL:ALL\nallow:10.0.0.1:ALL:ALL\n", RuleDiagnosticCodes.Shadowed, 1)]
        [InlineData("noto:ALL:/^x{5,}@/:ALL\n", RuleDiagnosticCodes.SplitRegex, 10)]
        public void Warnings_keep_the_file_loading(string text, string code, int column)
        {
            var set = RuleSet.Parse(text, "r");
            var w = Assert.Single(set.Diagnostics);
            Assert.Equal(DiagnosticSeverity.Warning, w.Severity);
            Assert.Equal((code, column), (w.Code, w.Column));
        }

        [Fact]
        public void A_debug_line_that_matches_everything_shadows_nothing()
        {
            var set = RuleSet.Parse("debug:ALL:ALL:ALL\nallow:ALL:ALL:ALL\n");
            Assert.Empty(set.Diagnostics);
        }

        [Fact]
        public void Except_is_recognised_in_any_case_other_keywords_only_in_upper_case()
        {
            var set = RuleSet.Parse("allow:ALL:ALL:*@a.test ExCePt x@a.test\n");
            Assert.NotNull(set.Rules[0].To.Except);
        }
    }
}
