using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Lookup
{
    /// <summary>
    /// The NS/MX walk of reference §2.4 in today's DNS: a host answers NODATA to NS and MX, so the
    /// name servers of a host come from its enclosing zone, found with NS questions (no crop).
    /// Real knotd on loopback, zone corp.test (facts in tests/fixtures/dns/README.md); bounds and
    /// failures with fixed facts.
    /// </summary>
    [Collection("dns")]
    public class NameServerWalkTests
    {
        readonly TestDnsServer _dns;
        public NameServerWalkTests(TestDnsServer dns) { _dns = dns; }

        Task<NameServerSet> Walk(string domain) => new RuleLookups(_dns.CreateResolver()).DiscoverNameServersAsync(domain);

        static string[] Sorted(NameServerSet s) => s.Names.OrderBy(n => n, System.StringComparer.Ordinal).ToArray();
        static string[] Addresses(NameServerSet s) => s.Addresses.Select(a => a.ToString()).OrderBy(a => a, System.StringComparer.Ordinal).ToArray();

        [Theory]
        [InlineData("www.corp.test")]        // one label under the apex
        [InlineData("host.lab.corp.test")]   // two labels, past the empty non-terminal lab.corp.test
        [InlineData("client.corp.test")]
        public async Task A_host_with_only_addresses_gets_its_zones_name_servers_without_a_crop(string host)
        {
            var s = await Walk(host);
            Assert.True(s.Outcome == LookupOutcome.Found, s + "\n" + _dns.Log);
            Assert.Equal(new[] { "ns1.corp.test", "ns2.corp.test" }, Sorted(s));   // the NS set only: not mx.corp.test
            Assert.Equal(new[] { "192.0.2.201", "192.0.2.202" }, Addresses(s));
            Assert.Equal(0, s.Crops);
            Assert.Equal("corp.test", s.Zone);
            Assert.True(s.FromEnclosingZone);
        }

        [Fact]
        public async Task A_zone_apex_keeps_its_own_ns_and_mx()
        {
            var s = await Walk("corp.test");
            Assert.Equal(new[] { "mx.corp.test", "ns1.corp.test", "ns2.corp.test" }, Sorted(s));
            Assert.Equal(new[] { "192.0.2.201", "192.0.2.202", "198.51.100.25" }, Addresses(s));
            Assert.Equal("corp.test", s.Zone);
            Assert.False(s.FromEnclosingZone);
        }

        [Fact]
        public async Task A_host_with_an_mx_of_its_own_gets_that_mx_and_its_zones_name_servers_but_not_the_apex_mx()
        {
            var s = await Walk("mail.corp.test");
            Assert.Equal(new[] { "ns1.corp.test", "ns2.corp.test", "relay.corp.test" }, Sorted(s));
            Assert.Equal(new[] { "192.0.2.201", "192.0.2.202", "198.51.100.26" }, Addresses(s));
            Assert.True(s.FromEnclosingZone);
        }

        [Fact]
        public async Task A_host_in_a_delegated_zone_gets_the_closest_zones_name_servers()
        {
            var s = await Walk("pc1.dept.corp.test");
            Assert.Equal(new[] { "ns.dept.corp.test" }, Sorted(s));
            Assert.Equal(new[] { "203.0.113.53" }, Addresses(s));
            Assert.Equal("dept.corp.test", s.Zone);
        }

        [Fact]
        public async Task A_name_that_does_not_exist_is_cropped_as_before_and_the_crop_is_counted()
        {
            var s = await Walk("nosuch.www.corp.test");   // NXDOMAIN, then www.corp.test exists
            Assert.Equal(1, s.Crops);
            Assert.Equal(new[] { "ns1.corp.test", "ns2.corp.test" }, Sorted(s));
            Assert.True(s.FromEnclosingZone);

            s = await Walk("nosuch.corp.test");           // NXDOMAIN, then the apex
            Assert.Equal(1, s.Crops);
            Assert.False(s.FromEnclosingZone);
            Assert.Contains("mx.corp.test", s.Names);
        }

        [Fact]
        public async Task An_empty_non_terminal_exists_and_gets_its_zones_name_servers()
        {
            // Decided difference: the original's ANY answer for a name without records carried only
            // the SOA, so it found nothing here; we cannot tell such a name from a host without
            // asking for every type, and treat it as one.
            var s = await Walk("lab.corp.test");
            Assert.Equal(0, s.Crops);
            Assert.Equal(new[] { "ns1.corp.test", "ns2.corp.test" }, Sorted(s));
        }

        [Fact]
        public async Task The_in_addr_arpa_name_of_a_peer_with_a_ptr_gets_the_reverse_zones_name_servers()
        {
            // The PTR exists but holds no NS: the reverse zone's NS set, reached via arpa-style names.
            var s = await Walk("80.2.0.192.in-addr.arpa.");
            Assert.Equal(0, s.Crops);
            Assert.Equal(new[] { "ns1.example.test" }, Sorted(s));
            Assert.Equal("2.0.192.in-addr.arpa.", s.Zone);
        }

        [Fact]
        public async Task The_walk_up_asks_only_ns_and_stops_at_the_zone_cut()
        {
            var facts = new FactDnsResolver()
                .A("a.b.example.com", "192.0.2.1")
                .NsMx("example.com", new[] { "ns.example.com" }, new[] { "mx.example.com" })
                .A("ns.example.com", "192.0.2.53");
            var s = await new RuleLookups(facts).DiscoverNameServersAsync("a.b.example.com");
            Assert.Equal(new[] { "ns.example.com" }, s.Names);
            Assert.Equal(new[] { "NS a.b.example.com", "MX a.b.example.com", "NS b.example.com", "NS example.com" },
                facts.Asked.Where(q => !q.StartsWith("A")).ToArray());
        }

        [Fact]
        public async Task The_walk_up_is_bounded_and_a_deeper_name_gets_no_enclosing_set()
        {
            var labels = string.Join(".", Enumerable.Range(1, RuleLookups.MaxZoneQuestions + 1).Select(i => "l" + i));
            var deep = labels + ".example.com";   // the apex is MaxZoneQuestions + 1 names up
            var facts = new FactDnsResolver().A(deep, "192.0.2.1").NsMx("example.com", new[] { "ns.example.com" }, null);
            var s = await new RuleLookups(facts).DiscoverNameServersAsync(deep);
            Assert.Equal(LookupOutcome.Found, s.Outcome);
            Assert.Empty(s.Names);
            Assert.Null(s.Zone);
            Assert.Equal(RuleLookups.MaxZoneQuestions + 1, facts.Asked.Count(q => q.StartsWith("NS ")));   // its own + the bound

            var shallower = deep.Substring(deep.IndexOf('.') + 1);   // the apex is exactly at the bound
            facts = new FactDnsResolver().A(shallower, "192.0.2.1").NsMx("example.com", new[] { "ns.example.com" }, null);
            s = await new RuleLookups(facts).DiscoverNameServersAsync(shallower);
            Assert.Equal(new[] { "ns.example.com" }, s.Names);
        }

        [Fact]
        public async Task A_failed_question_on_the_way_up_fails_the_whole_lookup()
        {
            var facts = new FactDnsResolver().A("www.example.com", "192.0.2.1").Failing("example.com");
            var s = await new RuleLookups(facts).DiscoverNameServersAsync("www.example.com");
            Assert.Equal(LookupOutcome.Failed, s.Outcome);
            Assert.Contains("example.com", s.Error);
        }

        [Fact]
        public async Task A_bare_top_level_name_is_not_asked_on_the_way_up()
        {
            var facts = new FactDnsResolver().A("host.com", "192.0.2.1").NsMx("com", new[] { "a.gtld.test" }, null);
            var s = await new RuleLookups(facts).DiscoverNameServersAsync("host.com");
            Assert.Empty(s.Names);
            Assert.DoesNotContain("NS com", facts.Asked);
        }
    }
}
