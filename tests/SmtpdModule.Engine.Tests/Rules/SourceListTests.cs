using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;
using static SmtpdModule.Engine.Tests.Rules.RuleCheck;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Tests.Rules
{
    public class SourceListTests
    {
        [Theory]
        [InlineData("0/0", "192.0.2.10", 1)]
        [InlineData("0", "192.0.2.10", 0)]
        [InlineData("0", "0.0.0.0", 1)]
        [InlineData("192.0.2.77/24", "192.0.2.10", 1)]      // host bits in the pattern are masked away
        [InlineData("192.0.2.0/25", "192.0.2.200", 0)]
        [InlineData("192.0.2.*", "192.0.2.10", 1)]          // glob against the dotted quad
        [InlineData("192.0.2.1*", "192.0.2.10", 1)]
        [InlineData("10/8", "10.1.2.3", 0)]                 // partial addresses never match
        [InlineData("10.0.0.0/8", "10.1.2.3", 1)]
        [InlineData("192.0.2.0/24", "2001:db8::10", 0)]
        [InlineData("[2001:db8::]/32", "2001:db8::10", 1)]
        [InlineData("[2001:db8::]/33", "2001:db8:8000::1", 0)]
        [InlineData("[2001:db8::10]", "2001:db8::10", 1)]
        [InlineData("[2001:db8::10]", "2001:db8::11", 0)]
        [InlineData("192.0.2.10", "::ffff:192.0.2.10", 1)]  // mapped addresses are compared as IPv4
        public async Task Address_patterns(string token, string ip, int line)
        {
            Assert.Equal(line, await Line("noto:" + token + ":ALL:ALL\n", ip: ip, name: null));
        }

        [Fact]
        public async Task Bracketed_ipv6_keeps_its_colons_inside_a_list_field()
        {
            var set = RuleSet.Parse("allow:[2001:db8::]/32,127.0.0.1:ALL:ALL:250 ok\n");
            Assert.Equal("[2001:db8::]/32,127.0.0.1", set.Rules[0].Source.Text);
            Assert.Equal(2, set.Rules[0].Source.Tokens.Count);
            Assert.Equal(1, await Line("allow:[2001:db8::]/32:ALL:ALL\n", ip: "2001:db8::1", name: null));
        }

        [Theory]
        [InlineData("KNOWN", "mail.example.org", 1)]
        [InlineData("KNOWN", null, 0)]
        [InlineData("UNKNOWN", null, 1)]
        [InlineData("UNKNOWN", "unknown", 0)]         // a PTR that reads "unknown" is a name
        [InlineData("known", "mail.example.org", 0)]  // keywords are upper case; lower case is a glob
        [InlineData("*.EXAMPLE.org", "mail.example.org", 1)]
        [InlineData("mail.example.org", "MAIL.EXAMPLE.ORG", 1)]
        [InlineData("/^mail\\./", "mail.example.org", 1)]
        [InlineData("/^mail\\./", null, 0)]
        [InlineData("*", null, 1)]                     // through the IP matcher's glob
        public async Task Name_patterns(string token, string name, int line)
        {
            Assert.Equal(line, await Line("noto:" + token + ":ALL:ALL\n", name: name));
        }

        [Theory]
        [InlineData("KNOWN", 0)]
        [InlineData("*.example.org", 0)]
        [InlineData("10.*", 0)]                 // the glob sees the peer address, not the name
        [InlineData("192.0.2.10", 1)]
        [InlineData("ALL", 1)]
        [InlineData("192.0.2.0/24", 1)]
        [InlineData("UNKNOWN", 0)]
        public async Task A_reverse_name_that_looks_like_an_address_is_matched_only_as_the_address(string token, int line)
        {
            Assert.Equal(line, await Line("noto:" + token + ":ALL:ALL\n", name: "10.1.2.3"));
        }

        [Theory]
        [InlineData("127.1")]
        [InlineData("0x7f.1")]
        [InlineData("3221225994")]
        public void Permissive_inet_addr_forms_look_like_addresses(string name)
        {
            Assert.True(PeerText.LooksLikeIPAddress(name));
        }

        [Theory]
        [InlineData("ALL@*.example.org", null, 1)]     // ALL matches without an ident answer
        [InlineData("*@*.example.org", null, 0)]       // anything else needs one
        [InlineData("KNOWN@*.example.org", "joe", 1)]
        [InlineData("joe@*.example.org", "JOE", 1)]    // the answer is lower-cased
        [InlineData("UNKNOWN@*.example.org", null, 0)] // UNKNOWN is no keyword in the user part
        [InlineData("UNKNOWN@*.example.org", "unknown", 1)]
        [InlineData("joe@*.other.test", "joe", 0)]
        public async Task User_at_host_tokens_consult_ident(string token, string ident, int line)
        {
            Assert.Equal(line, await Line("noto:" + token + ":ALL:ALL\n", ident: ident));
        }

        [Fact]
        public async Task Percent_u_shows_the_ident_only_once_a_rule_asked_for_it()
        {
            var asked = await Decide("noto:ALL@ALL:ALL:ALL:550 %U\n", ident: "Joe");
            Assert.Equal("550 joe", asked.Reply);
            var notAsked = await Decide("noto:ALL:ALL:ALL:550 %U\n", ident: "Joe");
            Assert.Equal("550 UNKNOWN", notAsked.Reply);
        }

        [Fact]
        public async Task Ident_asked_on_an_earlier_line_lets_USER_match_later()
        {
            const string rules = "noto:ALL@nomatch.test:ALL:ALL\nallow:ALL:USER@example.org:ALL\nnoto:ALL:ALL:ALL\n";
            Assert.Equal(2, await Line(rules, from: "<joe@example.org>", ident: "joe"));
            Assert.Equal(3, await Line(rules, from: "<root@example.org>", ident: "joe"));
        }

        [Fact]
        public async Task Except_excludes_and_nests()
        {
            const string rules = "allow:*.example.org EXCEPT dialup*.example.org EXCEPT dialup1.example.org:ALL:ALL\nnoto:ALL:ALL:ALL\n";
            Assert.Equal(1, await Line(rules, name: "mail.example.org"));
            Assert.Equal(2, await Line(rules, name: "dialup7.example.org"));
            Assert.Equal(1, await Line(rules, name: "dialup1.example.org"));
        }

        [Fact]
        public async Task Rbl_listed_only_for_answers_in_127_slash_8()
        {
            var dns = new FactDnsResolver().A("10.2.0.192.bl.test", "127.0.0.2").A("11.2.0.192.bl.test", "10.0.0.1");
            Assert.Equal(1, await Line("noto:RBL.bl.test:ALL:ALL\n", ip: "192.0.2.10", dns: dns));
            Assert.Equal(0, await Line("noto:RBL.bl.test:ALL:ALL\n", ip: "192.0.2.11", dns: dns));
            Assert.Equal(0, await Line("noto:RBL.bl.test:ALL:ALL\n", ip: "192.0.2.12", dns: dns));
        }

        [Fact]
        public async Task Rbl_queries_ipv6_peers_in_nibble_form()
        {
            var dns = new FactDnsResolver().A("0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test", "127.0.0.2");
            Assert.Equal(1, await Line("noto:RBL.bl.test:ALL:ALL\n", ip: "2001:db8::10", name: null, dns: dns));
        }

        [Fact]
        public async Task A_failed_dns_check_never_takes_the_default_action()
        {
            // Fixed: a failed lookup used to take the default action, so with the default Allow a
            // stranger relayed whenever the list did not answer.
            var dns = new FactDnsResolver().Failing("10.2.0.192.bl.test");
            foreach (var defaultAction in new[] { DefaultAction.Allow, DefaultAction.Deny })
            {
                var d = await Decide("noto:RBL.bl.test:ALL:ALL\n", dns: dns, defaultAction: defaultAction);
                Assert.Equal(RuleAction.Defer, d.Action);
                Assert.Equal(DecisionBasis.LookupFailure, d.Basis);
                Assert.Equal(RuleDecision.DeferReply, d.Reply);
                Assert.Contains("10.2.0.192.bl.test", d.FailureReason);
            }
        }

        [Fact]
        public async Task Tokens_after_the_first_match_cause_no_lookups()
        {
            var dns = new FactDnsResolver();
            await Decide("noto:ALL RBL.bl.test NS=KNOWN:ALL:ALL\n", dns: dns);
            Assert.Empty(dns.Asked);
        }

        [Fact]
        public async Task Ns_on_a_peer_without_a_name_walks_its_in_addr_arpa_name()
        {
            var dns = new FactDnsResolver().NsMx("2.0.192.in-addr.arpa", new[] { "ns.isp.test" }, null).A("ns.isp.test", "198.51.100.1");
            Assert.Equal(1, await Line("noto:NS=*.isp.test:ALL:ALL\n", name: null, dns: dns));
            Assert.Equal(1, await Line("noto:NS=198.51.100.0/24:ALL:ALL\n", name: null, dns: dns));
        }
    }
}
