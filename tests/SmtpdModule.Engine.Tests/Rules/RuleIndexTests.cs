using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>
    /// The index may only skip rules that cannot match: for random files and transactions the
    /// indexed scan must decide exactly as trying every line does (the explain path).
    /// </summary>
    public class RuleIndexTests
    {
        static readonly string[] Sources =
        {
            "ALL", "KNOWN", "UNKNOWN", "192.0.2.10", "192.0.2.0/24", "198.51.100.0/25", "192.0.2.*", "mail.example.org", "*.example.org",
            "10/8", "[2001:db8::]/32", "[2001:db8::10]", "0/0", "ALL@ALL", "joe@*.example.org", "RBL.bl.test", "NS=KNOWN", "/^mail/",
            "h1.example.net", "192.0.2.10 EXCEPT 192.0.2.0/24", "*.example.org EXCEPT mail.example.org",
        };
        static readonly string[] Addresses =
        {
            "ALL", "*", "*@example.com", "bob@example.com", "*@spam.test", "example.com", "<>", "*%*@*", "USER@example.org",
            "/^[0-9]+@/", "*@*.example.com", "alice@example.org", "ALL@NS=KNOWN", "x@spam.test", "*@example.com EXCEPT root@example.com",
            "root@example.com", "u7@example.test",
        };
        static readonly string[] Ips = { "192.0.2.10", "192.0.2.77", "198.51.100.3", "10.1.2.3", "2001:db8::10", "2001:db8::99", "203.0.113.5" };
        static readonly string[] Names = { null, "mail.example.org", "h1.example.net", "10.1.2.3", "dialup.example.org" };
        static readonly string[] Mailboxes =
        {
            "<alice@example.org>", "<bob@example.com>", "<root@example.com>", "<x@spam.test>", "<123@example.com>", "<>", "<a%b@example.com>",
            "<u7@example.test>", "<joe@example.org>", "bob@example.com",
        };
        static readonly string[] Verbs = { "allow", "noto", "deny", "debug", "noto_delay" };

        [Fact]
        public async Task Indexed_scan_decides_as_trying_every_line()
        {
            var rng = new Random(20261125);
            // Some questions fail, so uncertain lines are part of the comparison too.
            var dns = new FactDnsResolver().A("10.2.0.192.bl.test", "127.0.0.2").NsMx("example.com", new[] { "ns.example.com" }, null)
                .NsMx("mail.example.org", new[] { "ns.example.org" }, null)
                .Failing("77.2.0.192.bl.test").Failing("dialup.example.org").Failing("spam.test");
            for (int file = 0; file < 200; file++)
            {
                var text = new StringBuilder();
                int lines = rng.Next(1, 40);
                for (int i = 0; i < lines; i++)
                    text.Append(Pick(rng, Verbs)).Append(':').Append(Pick(rng, Sources)).Append(':')
                        .Append(Pick(rng, Addresses)).Append(':').Append(Pick(rng, Addresses)).Append(":550 line ").Append(i + 1).Append('\n');
                var ruleSet = RuleSet.Parse(text.ToString());
                var evaluator = new RuleEvaluator(ruleSet);
                for (int t = 0; t < 30; t++)
                {
                    var name = Pick(rng, Names);
                    var input = new RuleInput(IPAddress.Parse(Pick(rng, Ips)), name, Pick(rng, Mailboxes), Pick(rng, Mailboxes), null, null,
                        reverseLookupFailed: name == null && rng.Next(3) == 0);
                    var ident = rng.Next(2) == 0 ? null : "joe";
                    var indexed = await evaluator.EvaluateAsync(input, new RuleSession(new RuleLookups(dns), new FixedIdentSource(ident)));
                    var full = await evaluator.EvaluateAsync(input, new RuleSession(new RuleLookups(dns), new FixedIdentSource(ident)), explain: true);
                    Assert.True((full.Action, full.LineNumber, full.Reply, full.Ident, full.Basis, full.FailureReason)
                                == (indexed.Action, indexed.LineNumber, indexed.Reply, indexed.Ident, indexed.Basis, indexed.FailureReason),
                        "file:\n" + text + "input: " + input.Client + " " + input.ClientName + " " + input.From + " " + input.To +
                        "\nfull: " + full + "\nindexed: " + indexed);
                    Assert.Equal(full.DebugLines, indexed.DebugLines);
                }
            }
        }

        [Fact]
        public void Literal_lines_are_reached_through_the_index()
        {
            var text = new StringBuilder("noto:ALL:ALL:*%*@*\n");
            for (int i = 0; i < 1000; i++) text.Append("noto:198.51.").Append(i / 256).Append('.').Append(i % 256).Append(":ALL:ALL\n");
            for (int i = 0; i < 1000; i++) text.Append("noto:ALL:*@spam").Append(i).Append(".test:ALL\n");
            for (int i = 0; i < 1000; i++) text.Append("allow:ALL:ALL:user").Append(i).Append("@example.test\n");
            var ruleSet = RuleSet.Parse(text.ToString());
            Assert.Equal(3000, ruleSet.IndexedRuleCount);

            var evaluator = new RuleEvaluator(ruleSet);
            var ruleSession = RuleSession.Offline();
            Assert.True(evaluator.TryEvaluate(new RuleInput(IPAddress.Parse("198.51.3.231"), null, "<a@b.test>", "<c@d.test>"), ruleSession, out var d));
            Assert.Equal(1 + 1000, d.LineNumber);
            Assert.True(evaluator.TryEvaluate(new RuleInput(IPAddress.Parse("192.0.2.1"), null, "<a@SPAM999.test>", "<c@d.test>"), ruleSession, out d));
            Assert.Equal(1 + 1000 + 1000, d.LineNumber);
            Assert.True(evaluator.TryEvaluate(new RuleInput(IPAddress.Parse("192.0.2.1"), null, "<a@b.test>", "<user5@example.test>"), ruleSession, out d));
            Assert.Equal(RuleAction.Allow, d.Action);
            Assert.Equal(2001 + 6, d.LineNumber);
        }

        static string Pick(Random rng, string[] from) => from[rng.Next(from.Length)];
    }
}
