using System;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>
    /// <c>NS=</c> on a client's name and on a sender's domain when that name is a host (reference
    /// §2.4 as decided for today's DNS): the enclosing zone's NS set, not its MX. Real knotd on
    /// loopback serving corp.test; through the evaluator and through a running proxy.
    /// </summary>
    [Collection("dns")]
    public class NsOnHostsTests
    {
        readonly TestDnsServer _dns;
        public NsOnHostsTests(TestDnsServer dns) { _dns = dns; }

        async Task<RuleDecision> Decide(string rules, string ip, string from = "<alice@example.org>")
        {
            var lookups = new RuleLookups(_dns.CreateResolver());
            var reverse = await lookups.ReverseNameAsync(IPAddress.Parse(ip), confirm: true);
            var input = new RuleInput(IPAddress.Parse(ip), reverse.Name, from, "<bob@example.test>");
            return await new RuleEvaluator(RuleSet.Parse(rules, "rules")).EvaluateAsync(input, new RuleSession(lookups));
        }

        [Theory]
        [InlineData("NS=ns1.corp.test", 1)]
        [InlineData("NS=*.corp.test", 1)]
        [InlineData("NS=192.0.2.*", 1)]          // an IP glob on the name servers' addresses
        [InlineData("NS=192.0.2.202", 1)]
        [InlineData("NS=192.0.2.200/29", 1)]
        [InlineData("NS=mx.corp.test", 0)]       // the zone's MX is not a host's name server
        [InlineData("NS=198.51.100.*", 0)]       // nor its address
        [InlineData("NS=192.0.2.80", 0)]         // the host's own address is not in the set
        [InlineData("NS=KNOWN", 1)]
        [InlineData("NS=UNKNOWN", 0)]
        public async Task A_client_whose_reverse_name_is_a_host_matches_its_zones_name_servers(string token, int line)
        {
            var d = await Decide("noto:" + token + ":ALL:ALL\n", "192.0.2.80");   // PTR www.corp.test, confirmed
            Assert.True((line == 0 ? (int?)null : line) == d.LineNumber, token + ": " + d.Basis + " " + d.LineNumber + "\n" + _dns.Log);
        }

        [Theory]
        [InlineData("192.0.2.83", "NS=ns2.corp.test", 1)]         // host.lab.corp.test: two labels up
        [InlineData("192.0.2.81", "NS=relay.corp.test", 1)]       // mail.corp.test: its own MX counts
        [InlineData("192.0.2.81", "NS=ns1.corp.test", 1)]         // and so does its zone's NS set
        [InlineData("192.0.2.81", "NS=mx.corp.test", 0)]          // but not the apex's MX
        [InlineData("192.0.2.90", "NS=ns.dept.corp.test", 1)]     // pc1.dept.corp.test: the closest zone
        [InlineData("192.0.2.90", "NS=ns1.corp.test", 0)]
        [InlineData("192.0.2.10", "NS=ns1.example.test", 1)]      // mail.example.test (the old fixture)
        public async Task Other_hosts_match_the_name_servers_of_their_closest_zone(string ip, string token, int line)
        {
            var d = await Decide("noto:" + token + ":ALL:ALL\n", ip);
            Assert.True((line == 0 ? (int?)null : line) == d.LineNumber, ip + " " + token + ": " + d.Basis + " " + d.LineNumber);
        }

        [Theory]
        [InlineData("<user@www.corp.test>", "NS=ns1.corp.test", 1)]       // the sender's domain is a host
        [InlineData("<user@www.corp.test>", "NS=192.0.2.20*", 1)]
        [InlineData("<user@www.corp.test>", "NS=mx.corp.test", 0)]
        [InlineData("<user@www.corp.test>", "NS=KNOWN", 1)]
        [InlineData("<user@corp.test>", "NS=mx.corp.test", 1)]            // the apex keeps its MX
        [InlineData("<user@nosuch.corp.test>", "NS=UNKNOWN", 1)]          // NXDOMAIN: cropped, as before
        [InlineData("<user@nosuch.corp.test>", "NS=ns1.corp.test", 1)]
        [InlineData("<user@nosuch.www.corp.test>", "NS=UNKNOWN", 1)]      // cropped to a host: still UNKNOWN
        [InlineData("<user@lab.corp.test>", "NS=KNOWN", 1)]               // decided: an empty non-terminal exists
        [InlineData("<user@www.corp.test>", "user@NS=ns2.corp.test", 1)]  // the domain side of user@domain
        public async Task A_sender_whose_domain_is_a_host_matches_its_zones_name_servers(string from, string token, int line)
        {
            var d = await Decide("noto:ALL:" + token + ":ALL\n", "192.0.2.12", from);   // 192.0.2.12: no PTR
            Assert.True((line == 0 ? (int?)null : line) == d.LineNumber, from + " " + token + ": " + d.Basis + " " + d.LineNumber);
        }

        [Fact]
        public async Task A_running_proxy_decides_rcpt_by_the_name_servers_of_the_client_and_of_the_sender()
        {
            // The client binds 127.0.0.2, whose PTR client.corp.test is confirmed by knotd.
            const string rules =
                "noto:NS=mx.corp.test:ALL:*@a.test:550 5.7.1 apex MX\n" +
                "noto:NS=192.0.2.20*:ALL:*@b.test:550 5.7.1 client served by corp.test\n" +
                "noto:ALL:NS=ns2.corp.test:*@c.test:550 5.7.1 sender served by corp.test\n" +
                "allow:ALL:ALL:ALL\n";
            using var proxy = TestProxy.Start(rules, o =>
            {
                o.ReverseLookup = true;
                o.Dns.Servers = new[] { _dns.EndPoint };
                o.Dns.Timeout = TimeSpan.FromSeconds(5);
            });
            var spec = new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                source = "127.0.0.2",
                helo = "client.corp.test",
                timeout = 20,
                from = "user@www.corp.test",
                to = new[] { "x@a.test", "y@b.test", "z@c.test" },
                message = "Subject: ns\r\n\r\nhello\r\n",
            };
            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", spec);

            Assert.True(result.GetProperty("result").GetString() == "sent", "smtplib did not send:\n" + run + "\nproxy log:\n" + proxy.Log);
            var refused = result.GetProperty("refused");
            Assert.Equal(new[] { "y@b.test", "z@c.test" }, refused.EnumerateObject().Select(p => p.Name).OrderBy(n => n, StringComparer.Ordinal).ToArray());
            Assert.Equal("5.7.1 client served by corp.test", refused.GetProperty("y@b.test")[1].GetString());
            Assert.Equal(550, refused.GetProperty("z@c.test")[0].GetInt32());
            var spooled = proxy.Spooled();
            Assert.True(spooled.Count == 1, "proxy log:\n" + proxy.Log);
            Assert.Equal(new[] { "<x@a.test>" }, spooled[0].Envelope.Recipients.Select(r => r.Address).ToArray());
        }
    }
}
