using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// A running proxy whose DNS server times out, answers SERVFAIL or REFUSED, under rules that
    /// look something up with every kind of token: no stranger's mail to an outside domain is ever
    /// accepted, whatever the default action. Before the fix a failed lookup took the default
    /// action, and with the default Allow the proxy relayed.
    /// </summary>
    public class LookupFailureRelayTests
    {
        public enum Fault { Timeout, Servfail, Refused }

        // Each rules file keeps strangers to example.test and refuses relaying, the way the docs
        // recommend, with a token above the refusal that needs a lookup.
        static readonly Dictionary<string, string> RulesByToken = new Dictionary<string, string>
        {
            ["rbl"] = "noto:RBL.bl.test:ALL:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
            ["rbl-no-relay-line"] = "noto:RBL.bl.test:ALL:ALL\nallow:ALL:ALL:*@example.test\n",
            ["ns-sender"] = "noto:ALL:NS=UNKNOWN:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
            ["ns-sender-allow"] = "allow:ALL:ALL@NS=*.example.test:ALL\nallow:ALL:ALL:*@example.test\n",
            ["ns-client"] = "allow:NS=ns1.example.test:ALL:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
            ["client-name"] = "allow:relay.example.test:ALL:ALL\nallow:ALL:ALL:*@example.test\n",
            ["known"] = "noto:UNKNOWN:ALL:ALL\nallow:KNOWN:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
            ["known-allow"] = "allow:KNOWN:ALL:ALL\n",
        };

        public static IEnumerable<object[]> Cases()
        {
            foreach (var token in RulesByToken.Keys)
                foreach (Fault fault in Enum.GetValues(typeof(Fault)))
                    foreach (DefaultAction d in Enum.GetValues(typeof(DefaultAction)))
                        yield return new object[] { token, fault, d };
        }

        static FakeDnsServer StartDns(Fault fault) =>
            fault == Fault.Timeout ? BlackholeDnsServer.Start()
            : ServfailDnsServer.Start(fault == Fault.Servfail ? 2 : 5);

        [Theory]
        [MemberData(nameof(Cases))]
        public async Task No_strangers_mail_to_an_outside_domain_is_accepted(string token, Fault fault, DefaultAction defaultAction)
        {
            using var dns = StartDns(fault);
            using var proxy = TestProxy.Start(RulesByToken[token], o =>
            {
                o.Dns.Servers = new[] { dns.EndPoint };
                o.Dns.Timeout = TimeSpan.FromMilliseconds(300);
                o.Dns.Retries = 0;
                o.ReverseLookup = true;
                o.RuleEvaluation.DefaultAction = defaultAction;
            });
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("EHLO client.example.org", "250");
            await smtp.SendAsync("MAIL FROM:<stranger@sender.example.test>", "250");
            foreach (var victim in new[] { "<victim@elsewhere.test>", "<victim%elsewhere.test@example.test>", "<postmaster@other.test>" })
            {
                await smtp.WriteAsync("RCPT TO:" + victim + "\r\n");
                var reply = await smtp.ReadReplyAsync();
                Assert.True(reply != null && (reply[0] == '4' || reply[0] == '5'),
                    token + "/" + fault + "/" + defaultAction + ": RCPT " + victim + " got '" + reply + "'\n" + proxy.Log);
                if (reply.StartsWith("421")) break;   // a deny closes the session: nothing more can be accepted
            }
            await dns.WaitForQueriesAsync(1, TimeSpan.FromSeconds(30));
            Assert.Empty(proxy.Spooled());
        }

        [Theory]
        [InlineData(Fault.Timeout)]
        [InlineData(Fault.Servfail)]
        [InlineData(Fault.Refused)]
        public async Task A_failure_gives_451_4_4_3_where_it_hid_an_acceptance_never_a_5xx(Fault fault)
        {
            using var dns = StartDns(fault);
            using var proxy = TestProxy.Start("allow:relay.example.test:ALL:ALL\nnoto:ALL:ALL:ALL:550 no relay\n", o =>
            {
                o.Dns.Servers = new[] { dns.EndPoint };
                o.Dns.Timeout = TimeSpan.FromMilliseconds(300);
                o.Dns.Retries = 0;
                o.ReverseLookup = true;
                o.RuleEvaluation.DefaultAction = DefaultAction.Deny;
            });
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("HELO relay.example.test", "250");
            await smtp.SendAsync("MAIL FROM:<a@example.test>", "250");
            await smtp.SendAsync("RCPT TO:<b@elsewhere.test>", "451 4.4.3");
            // The session goes on: a deferral is per recipient.
            await smtp.SendAsync("NOOP", "250");
            Assert.Contains("LookupFailure", proxy.Log);
        }

        [Theory]
        [InlineData(DefaultAction.Allow)]
        [InlineData(DefaultAction.Deny)]
        public async Task An_ident_server_that_does_not_answer_opens_nothing(DefaultAction defaultAction)
        {
            // Ident asks the client's port 113; a listener there that never answers is what a firewall
            // that drops looks like. Binding 113 needs privileges the test run may not have: then
            // nothing listens, the query is refused, and the user is definitely absent instead.
            TcpListener hanging;
            try
            {
                hanging = new TcpListener(IPAddress.Loopback, 113);
                hanging.Start();
            }
            catch (SocketException)
            {
                hanging = null;
            }
            try
            {
                foreach (var rules in new[]
                {
                    "allow:admin@ALL:ALL:ALL\nallow:KNOWN@127.0.0.1:ALL:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
                    "allow:ALL@127.0.0.1:USER@example.test:ALL\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 no relay\n",
                })
                {
                    using var proxy = TestProxy.Start(rules, o =>
                    {
                        o.IdentTimeout = TimeSpan.FromMilliseconds(500);
                        o.RuleEvaluation.DefaultAction = defaultAction;
                    });
                    using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
                    await smtp.SendAsync("HELO client.example.org", "250");
                    await smtp.SendAsync("MAIL FROM:<admin@example.test>", "250");
                    await smtp.SendAsync("RCPT TO:<user@example.test>", "250");
                    // A timed-out query leaves the user unknown: line 1 might have accepted, so 451; a
                    // refused one means no user: the relay refusal's 550. Never 250.
                    var reply = await smtp.SendAsync("RCPT TO:<victim@elsewhere.test>", hanging != null ? "451 4.4.3" : "550");
                    Assert.Contains(hanging != null ? "ident query timed out" : "\"line\":4", proxy.Log + reply);
                }
            }
            finally
            {
                hanging?.Stop();
            }
        }
    }
}
