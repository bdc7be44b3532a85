using System;
using System.Diagnostics;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>The rules' DNS behaviour against a real authoritative server (knotd on loopback; facts in tests/fixtures/dns).</summary>
    [Collection("dns")]
    public class RuleDnsTests
    {
        readonly TestDnsServer _dns;
        public RuleDnsTests(TestDnsServer dns) { _dns = dns; }

        RuleLookups Lookups() => new RuleLookups(_dns.CreateResolver());

        async Task<RuleDecision> Decide(string rules, string ip, string name, string from = "<alice@example.org>", IDnsResolver resolver = null)
        {
            var ruleSession = new RuleSession(new RuleLookups(resolver ?? _dns.CreateResolver()));
            var input = new RuleInput(IPAddress.Parse(ip), name, from, "<bob@example.test>");
            return await new RuleEvaluator(RuleSet.Parse(rules, "rules")).EvaluateAsync(input, ruleSession);
        }

        [Theory]
        [InlineData("192.0.2.10", "mail.example.test")]
        [InlineData("192.0.2.13", "multi.example.test")]
        [InlineData("2001:db8::10", "mail.example.test")]
        [InlineData("::ffff:192.0.2.10", "mail.example.test")]
        public async Task A_reverse_name_counts_when_it_resolves_back_to_the_peer(string ip, string name)
        {
            var r = await Lookups().ReverseNameAsync(IPAddress.Parse(ip), confirm: true);
            Assert.Equal(name, r.Name);
        }

        [Fact]
        public async Task An_unconfirmed_reverse_name_makes_the_peer_unknown_unless_trusted()
        {
            var confirmed = await Lookups().ReverseNameAsync(IPAddress.Parse("192.0.2.11"), confirm: true);
            Assert.Null(confirmed.Name);
            Assert.Equal("forged.example.test", confirmed.Ptr);
            Assert.Contains("does not resolve back", confirmed.Note);
            var trusted = await Lookups().ReverseNameAsync(IPAddress.Parse("192.0.2.11"), confirm: false);
            Assert.Equal("forged.example.test", trusted.Name);
        }

        [Fact]
        public async Task No_ptr_means_no_name()
        {
            var r = await Lookups().ReverseNameAsync(IPAddress.Parse("192.0.2.12"), confirm: true);
            Assert.Null(r.Name);
            Assert.Equal(LookupOutcome.NotFound, r.Outcome);
        }

        [Theory]
        [InlineData("192.0.2.10", 1)]   // listed: 127.0.0.2
        [InlineData("192.0.2.11", 0)]   // answer outside 127/8: not a listing
        [InlineData("192.0.2.12", 0)]   // NXDOMAIN
        [InlineData("2001:db8::10", 1)] // nibble form
        public async Task Dnsbl(string ip, int line)
        {
            var d = await Decide("noto:RBL.bl.test:ALL:ALL\n", ip, null);
            Assert.Equal(line == 0 ? (int?)null : line, d.LineNumber);
            Assert.Equal(line == 1 ? DecisionBasis.Rule : DecisionBasis.DefaultNoMatch, d.Basis);
        }

        [Fact]
        public async Task A_dnsbl_the_server_refuses_is_a_failure_not_a_clean_bill()
        {
            var d = await Decide("noto:RBL.unserved.invalid:ALL:ALL\n", "192.0.2.10", null);
            Assert.Equal(DecisionBasis.LookupFailure, d.Basis);
            Assert.Equal(RuleAction.Defer, d.Action);
        }

        [Theory]
        [InlineData("NS=UNKNOWN", "<x@nosuch.example.test>", 1)]   // found only after cropping, no address
        [InlineData("NS=UNKNOWN", "<x@example.test>", 0)]
        [InlineData("NS=KNOWN", "<x@example.test>", 1)]
        [InlineData("NS=KNOWN", "<x@mail.example.test>", 1)]       // resolves as a host
        [InlineData("NS=ns1.example.test", "<x@example.test>", 1)]
        [InlineData("NS=mx.example.test", "<x@example.test>", 1)]  // MX targets count too
        [InlineData("NS=192.0.2.53", "<x@example.test>", 1)]
        [InlineData("ALL@NS=RBL.bl.test", "<x@spam.test>", 1)]     // ns1.spam.test is listed
        [InlineData("ALL@NS=RBL.bl.test", "<x@example.test>", 0)]
        [InlineData("NS=ALL", "<x@sub.example.test>", 1)]          // an existing name without NS: its zone's name servers
        public async Task Name_servers_of_the_sender_domain(string token, string from, int line)
        {
            var d = await Decide("noto:ALL:" + token + ":ALL\n", "192.0.2.10", "mail.example.test", from);
            Assert.Equal(line == 0 ? (int?)null : line, d.LineNumber);
        }

        [Fact]
        public async Task Ns_of_a_peer_uses_its_reverse_name()
        {
            var d = await Decide("noto:NS=ns1.example.test:ALL:ALL\n", "192.0.2.10", "mail.example.test");
            Assert.Equal(1, d.LineNumber);                          // mail.example.test is a host: its zone's name servers
            d = await Decide("noto:NS=ns1.example.test:ALL:ALL\n", "192.0.2.10", "nosuch.example.test");
            Assert.Equal(1, d.LineNumber);                          // cropped to example.test
        }

        [Fact]
        public async Task A_dns_timeout_defers_quickly()
        {
            using var hole = BlackholeDnsServer.Start();
            var resolver = new DnsClientResolver(new DnsResolverOptions { Servers = new[] { hole.EndPoint }, Timeout = TimeSpan.FromMilliseconds(300), Retries = 0 });
            var watch = Stopwatch.StartNew();
            var d = await Decide("noto:RBL.bl.test:ALL:ALL\nallow:ALL:ALL:ALL\n", "192.0.2.10", null, resolver: resolver);
            Assert.Equal(RuleAction.Allow, d.Action);   // the list did not answer: not listed, line 2 decides
            Assert.Contains("line 1", d.FailureReason);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), "took " + watch.Elapsed);
            Assert.True(hole.QueriesReceived >= 1);
        }
    }
}
