using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;
using static SmtpdModule.Engine.Tests.Rules.RuleCheck;

namespace SmtpdModule.Engine.Tests.Rules
{
    public class AddressListTests
    {
        [Theory]
        [InlineData("*%*@*", "<bob%other.test@example.com>", 1)]
        [InlineData("*!*@*", "<host!bob@example.com>", 1)]
        [InlineData("*@*@*", "<bob@other.test@example.com>", 1)]
        [InlineData("*.example.com", "<joe@mx.example.com>", 1)]   // the star spans the local part and '@'
        [InlineData("example.com", "<joe@example.com>", 0)]         // without '@', the whole address
        [InlineData("ALL@ALL", "<postmaster>", 0)]                  // L@R needs an '@'
        [InlineData("*", "<postmaster>", 1)]
        [InlineData("bob@example.com", "< bob@example.com>", 1)]    // blanks after '<' are skipped
        [InlineData("@relay*@example.com", "<@relay:bob@example.com>", 1)]  // source routes are not interpreted: the local part is "@relay:bob"
        [InlineData("/^bob@/", "<BOB@example.com>", 1)]
        [InlineData("/^[0-9]+$/@ALL", "<123@example.com>", 1)]
        [InlineData("ALL@/^example\\.(com|net)$/", "<x@example.net>", 1)]
        [InlineData("\"a@b\"@example.com", "<\"a@b\"@example.com>", 1)]   // split at the LAST '@'
        public async Task To_patterns(string token, string to, int line)
        {
            Assert.Equal(line, await Line("noto:ALL:ALL:" + token + "\n", to: to));
        }

        [Fact]
        public async Task The_null_sender_is_the_empty_string()
        {
            Assert.Equal(1, await Line("noto:ALL:*:ALL\n", from: "<>"));
            Assert.Equal(0, await Line("noto:ALL:ALL@ALL:ALL\n", from: "<>"));
        }

        [Fact]
        public async Task Keywords_are_plain_text_in_address_lists()
        {
            Assert.Equal(0, await Line("noto:ALL:UNKNOWN:ALL\n", from: "<x@nowhere.test>"));
            Assert.Equal(1, await Line("noto:ALL:UNKNOWN:ALL\n", from: "unknown"));
        }

        [Fact]
        public async Task Ns_unknown_uses_the_crop_rule()
        {
            // example.test has name servers; bogus.example.test has no address and is found only by cropping.
            var dns = new FactDnsResolver().NsMx("example.test", new[] { "ns1.example.test" }, new[] { "mx.example.test" })
                .A("ns1.example.test", "192.0.2.53").A("mx.example.test", "192.0.2.25").A("host.example.test", "192.0.2.40");
            Assert.Equal(1, await Line("noto:ALL:NS=UNKNOWN:ALL\n", from: "<x@bogus.example.test>", dns: dns));
            Assert.Equal(0, await Line("noto:ALL:NS=UNKNOWN:ALL\n", from: "<x@example.test>", dns: dns));
            Assert.Equal(0, await Line("noto:ALL:NS=UNKNOWN:ALL\n", from: "<x@host.example.test>", dns: dns));  // resolves as a host
            Assert.Equal(1, await Line("noto:ALL:NS=KNOWN:ALL\n", from: "<x@host.example.test>", dns: dns));
            Assert.Equal(1, await Line("noto:ALL:ALL@NS=mx.example.test:ALL\n", from: "<x@example.test>", dns: dns));
            Assert.Equal(1, await Line("noto:ALL:ALL@NS=192.0.2.53:ALL\n", from: "<x@example.test>", dns: dns));
            Assert.Equal(1, await Line("noto:ALL:NS=ALL:ALL\n", from: "<x@deep.bogus.example.test>", dns: dns));  // found after cropping
        }

        [Fact]
        public async Task Ns_walk_never_asks_a_top_level_name()
        {
            var dns = new FactDnsResolver();
            await Line("noto:ALL:NS=KNOWN:ALL\n", from: "<x@a.b.example.test>", dns: dns);
            Assert.DoesNotContain(dns.Asked, q => q.EndsWith(" test"));
            Assert.Contains("NS example.test", dns.Asked);
        }

        [Fact]
        public async Task Ns_rbl_tests_each_name_server_address()
        {
            var dns = new FactDnsResolver().NsMx("spam.test", new[] { "ns1.spam.test" }, null).A("ns1.spam.test", "203.0.113.7")
                .A("7.113.0.203.bl.test", "127.0.0.4");
            Assert.Equal(1, await Line("noto:ALL:ALL@NS=RBL.bl.test:ALL\n", from: "<x@spam.test>", dns: dns));
        }

        [Fact]
        public async Task Ident_is_literal_text_for_USER()
        {
            const string rules = "allow:ALL@ALL:USER@example.org:ALL\nnoto:ALL:ALL:ALL\n";
            Assert.Equal(1, await Line(rules, from: "<joe@example.org>", ident: "joe"));
            Assert.Equal(2, await Line(rules, from: "<joe@example.org>", ident: "j*"));
            Assert.Equal(2, await Line(rules, from: "<joe@example.org>", ident: null));
        }
    }
}
