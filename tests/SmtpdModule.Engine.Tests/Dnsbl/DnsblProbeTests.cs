using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>The RFC 5782 test-point probe against knotd's lists (tests/fixtures/dns/README.md).</summary>
    [Collection("dns")]
    public class DnsblProbeTests
    {
        readonly TestDnsServer _dns;
        public DnsblProbeTests(TestDnsServer dns) { _dns = dns; }

        async Task<DnsblProbeResult> Probe(string zone)
        {
            using var resolver = _dns.CreateResolver();
            return await DnsblProbe.ProbeAsync(resolver, zone);
        }

        [Fact]
        public async Task A_list_that_lists_everything_is_unhealthy()
        {
            var r = await Probe("all.test");
            Assert.Equal((DnsblHealthStatus.ListsEverything, false), (r.Status, r.Healthy));
            Assert.Equal("lists 127.0.0.1", r.Detail);
            Assert.Equal("127.0.0.2", r.NegativeTestPoint);
            Assert.True(r.IPv6);
        }

        [Fact]
        public async Task A_list_answering_error_codes_is_unhealthy()
        {
            var r = await Probe("err.test");
            Assert.Equal((DnsblHealthStatus.ErrorAnswers, false), (r.Status, r.Healthy));
            Assert.Equal("127.255.255.254", r.TestPoint);
        }

        [Fact]
        public async Task An_IPv4_only_list_with_its_test_points_is_healthy()
        {
            var r = await Probe("good.test");
            Assert.Equal((DnsblHealthStatus.Healthy, true, false), (r.Status, r.Healthy, r.IPv6));
            Assert.Equal(("127.0.0.2", "not listed"), (r.TestPoint, r.NegativeTestPoint));
        }

        [Fact]
        public async Task A_list_without_its_test_entry_is_not_listing()
        {
            var r = await Probe("example.test");
            Assert.Equal((DnsblHealthStatus.NotListing, false), (r.Status, r.Healthy));
        }

        [Fact]
        public async Task A_list_that_cannot_be_asked_is_a_timeout()
        {
            using var blackhole = BlackholeDnsServer.Start();
            using var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { blackhole.EndPoint }, Timeout = System.TimeSpan.FromMilliseconds(200), Retries = 0 });
            var r = await DnsblProbe.ProbeAsync(resolver, "bl.test");
            Assert.Equal((DnsblHealthStatus.Timeout, false), (r.Status, r.Healthy));
            Assert.StartsWith("failed: ", r.TestPoint);
        }
    }
}
