using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>Answer filters on RBL. tokens, and the error block every token ignores.</summary>
    public class DnsblFilterTests
    {
        const string Query = "10.2.0.192.bl.example";

        static FactDnsResolver Answering(params string[] answers) => new FactDnsResolver().A(Query, answers);

        [Theory]
        [InlineData("RBL.bl.example", "127.0.0.2", true)]
        [InlineData("RBL.bl.example", "127.0.0.11", true)]
        [InlineData("RBL.bl.example=127.0.0.2", "127.0.0.2", true)]
        [InlineData("RBL.bl.example=127.0.0.2", "127.0.0.3", false)]
        [InlineData("RBL.bl.example=127.0.0.[2..11]", "127.0.0.11", true)]
        [InlineData("RBL.bl.example=127.0.0.[2..11]", "127.0.0.12", false)]
        [InlineData("RBL.bl.example=127.0.0.[2;4;10..11]", "127.0.0.4", true)]
        [InlineData("RBL.bl.example=127.0.0.[2;4;10..11]", "127.0.0.3", false)]
        [InlineData("RBL.bl.example=127.0.[0..1].[2;10]", "127.0.1.10", true)]
        [InlineData("RBL.bl.example&0.0.0.4", "127.0.0.4", true)]
        [InlineData("RBL.bl.example&0.0.0.4", "127.0.0.6", true)]
        [InlineData("RBL.bl.example&0.0.0.4", "127.0.0.2", false)]
        public async Task A_filter_decides_which_answers_are_listings(string token, string answer, bool listed)
        {
            var d = await RuleCheck.Decide("noto:" + token + ":ALL:ALL\n", dns: Answering(answer));
            Assert.Equal(listed ? RuleAction.Noto : RuleAction.Allow, d.Action);
        }

        [Theory]
        [InlineData("RBL.bl.example")]
        [InlineData("RBL.bl.example=127.255.255.[0..255]")]
        [InlineData("RBL.bl.example&255.255.255.255")]
        public async Task Error_codes_are_never_listings_and_never_defer(string token)
        {
            foreach (var code in new[] { "127.255.255.252", "127.255.255.254", "127.255.255.255" })
            {
                var d = await RuleCheck.Decide("deny:" + token + ":ALL:ALL\n", dns: Answering(code), explain: true);
                Assert.Equal(RuleAction.Allow, d.Action);
                Assert.Equal(DecisionBasis.DefaultNoMatch, d.Basis);
                Assert.Contains("error code " + code, d.Explanation.Single().Note);
            }
        }

        [Fact]
        public async Task A_listing_beside_an_error_code_still_counts()
        {
            var d = await RuleCheck.Decide("noto:RBL.bl.example:ALL:ALL\n", dns: Answering("127.255.255.254", "127.0.0.2"));
            Assert.Equal(RuleAction.Noto, d.Action);
        }

        [Fact]
        public async Task Answers_outside_127_8_never_count_even_for_a_mask()
        {
            var d = await RuleCheck.Decide("noto:RBL.bl.example&255.255.255.255:ALL:ALL\n", dns: Answering("10.0.0.4"));
            Assert.Equal(RuleAction.Allow, d.Action);
        }

        [Theory]
        [InlineData("noto:RBL.bl.example=127.0.0:ALL:ALL\n", 28)]
        [InlineData("noto:RBL.bl.example=127.0.0.256:ALL:ALL\n", 29)]
        [InlineData("noto:RBL.bl.example=127.0.0.[2..]:ALL:ALL\n", 33)]
        [InlineData("noto:RBL.bl.example=127.0.0.[4..2]:ALL:ALL\n", 34)]
        [InlineData("noto:RBL.bl.example=127.0.0.[2;3:ALL:ALL\n", 33)]
        [InlineData("noto:RBL.bl.example&0.0.0.0:ALL:ALL\n", 21)]
        [InlineData("noto:RBL.bl.example&4:ALL:ALL\n", 22)]
        [InlineData("noto:ALL@RBL.bl.example=x:ALL:ALL\n", 25)]
        [InlineData("noto:ALL:NS=RBL.bl.example=1.2.3.4.5:ALL\n", 35)]
        public void Bad_filter_syntax_is_a_load_error_at_its_column(string rules, int column)
        {
            var ex = Assert.Throws<RuleFileException>(() => RuleSet.Parse(rules, "smtpd_check_rules"));
            var e = Assert.Single(ex.Diagnostics, x => x.Severity == DiagnosticSeverity.Error);
            Assert.Equal((RuleDiagnosticCodes.BadDnsblFilter, 1, column), (e.Code, e.Line, e.Column));
            Assert.StartsWith("smtpd_check_rules:1:" + column + ": error: ", ex.Message);
        }
    }
}
