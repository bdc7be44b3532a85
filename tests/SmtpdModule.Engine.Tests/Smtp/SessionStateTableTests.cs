using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Security;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Smtp.Tls;
using SmtpdModule.Engine.Tests.Tls;
using Xunit;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// The session state table, every (state, command) pair: first the table itself against the
    /// flag checks the session's handlers made before it existed, then over the wire, a real proxy
    /// driven into each state and sent each command.
    /// </summary>
    public class SessionStateTableTests
    {
        static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

        static IEnumerable<SessionState> AllStates => Enum.GetValues(typeof(SessionState)).Cast<SessionState>();
        static IEnumerable<SmtpVerb> AllVerbs => Enum.GetValues(typeof(SmtpVerb)).Cast<SmtpVerb>();

        // Written out here, not taken from Replies: these are the lines clients have always seen.
        const string NeedHelo = "503 5.5.1 Send HELO or EHLO first";
        const string NeedMail = "503 5.5.1 Need MAIL before RCPT";
        const string NestedMail = "503 5.5.1 Sender already given";
        const string NoRecipients = "554 5.5.1 No valid recipients";
        const string TlsActive = "503 5.5.1 TLS already active";
        const string TlsNotOffered = "502 5.5.1 STARTTLS not offered";
        const string Unrecognized = "500 5.5.1 Command unrecognized";

        static bool Secure(SessionState s) => s.ToString().StartsWith("Secure", StringComparison.Ordinal);

        /// <summary>0 connected, 1 greeted, 2 sender given, 3 recipients given.</summary>
        static int Phase(SessionState s) => (int)s % 4;

        /// <summary>What the handlers' flag checks answered before the table, in their order.</summary>
        static string FlagChecks(SessionState state, SmtpVerb verb, bool tlsOffered)
        {
            bool greeted = Phase(state) >= 1, from = Phase(state) >= 2, rcpts = Phase(state) == 3, tls = Secure(state);
            switch (verb)
            {
                case SmtpVerb.Mail: return !greeted ? NeedHelo : from ? NestedMail : null;
                case SmtpVerb.Rcpt: return !from ? (greeted ? NeedMail : NeedHelo) : null;
                case SmtpVerb.Data: return !from ? (greeted ? NeedMail : NeedHelo) : !rcpts ? NoRecipients : null;
                case SmtpVerb.StartTls: return !tlsOffered ? TlsNotOffered : tls ? TlsActive : !greeted ? NeedHelo : null;
                case SmtpVerb.Unknown: return Unrecognized;
                default: return null;
            }
        }

        /// <summary>Where an accepted command leaves the session.</summary>
        static SessionState Expected(SessionState state, SmtpVerb verb)
        {
            int twin = Secure(state) ? 4 : 0;
            switch (verb)
            {
                case SmtpVerb.Helo:
                case SmtpVerb.Ehlo:
                case SmtpVerb.Data: return (SessionState)(twin + 1);
                case SmtpVerb.Mail: return (SessionState)(twin + 2);
                case SmtpVerb.Rcpt: return (SessionState)(twin + 3);
                case SmtpVerb.Rset: return Phase(state) >= 2 ? (SessionState)(twin + 1) : state;
                case SmtpVerb.StartTls: return SessionState.SecureConnected;
                default: return state;
            }
        }

        [Fact]
        public void Every_state_and_command_gets_what_the_handlers_flag_checks_gave()
        {
            int pairs = 0;
            foreach (var tlsOffered in new[] { true, false })
                foreach (var state in AllStates)
                    foreach (var verb in AllVerbs)
                    {
                        var step = SessionStateTable.For(tlsOffered).Lookup(state, verb);
                        var where = (tlsOffered ? "TLS offered, " : "no TLS, ") + state + ", " + verb;
                        var refusal = FlagChecks(state, verb, tlsOffered);
                        Assert.True(refusal == null == step.Accepted, where + ": accepted " + step.Accepted);
                        Assert.Equal(refusal, step.Refusal?.ToString());
                        Assert.True((refusal == null ? Expected(state, verb) : state) == step.Next, where + ": next " + step.Next);
                        pairs++;
                    }
            Assert.Equal(2 * 8 * 12, pairs);
        }

        [Fact]
        public void The_state_helpers_agree_with_the_state_names()
        {
            foreach (var state in AllStates)
            {
                Assert.Equal(Secure(state), SessionStateTable.IsSecure(state));
                Assert.Equal(Phase(state) >= 1, SessionStateTable.IsGreeted(state));
                Assert.Equal(Phase(state) >= 2, SessionStateTable.InTransaction(state));
            }
        }

        static readonly (SmtpVerb Verb, string Line, string Accepted)[] Commands =
        {
            (SmtpVerb.Helo, "HELO client.example", "250 mx.example.test Hello client.example"),
            (SmtpVerb.Ehlo, "EHLO client.example", "250-mx.example.test Hello client.example"),
            (SmtpVerb.Mail, "MAIL FROM:<a@example.org>", "250 2.1.0"),
            (SmtpVerb.Rcpt, "RCPT TO:<b@example.test>", "250 2.1.5"),
            (SmtpVerb.Data, "DATA", "354 "),
            (SmtpVerb.Rset, "RSET", "250 2.0.0"),
            (SmtpVerb.Noop, "NOOP", "250 2.0.0"),
            (SmtpVerb.Vrfy, "VRFY b", "252 2.5.0"),
            (SmtpVerb.Help, "HELP", "214 2.0.0"),
            (SmtpVerb.Quit, "QUIT", "221 2.0.0"),
            (SmtpVerb.StartTls, "STARTTLS", "220 2.0.0"),
            (SmtpVerb.Unknown, "XYZZY", null),
        };

        public static IEnumerable<object[]> StateNames => AllStates.Select(s => new object[] { s.ToString() });

        public static IEnumerable<object[]> PlainStateNames => AllStates.Where(s => !Secure(s)).Select(s => new object[] { s.ToString() });

        [Theory]
        [MemberData(nameof(StateNames))]
        public async Task Over_the_wire_every_command_in_each_state_gets_the_table_reply_and_move(string stateName)
        {
            var state = (SessionState)Enum.Parse(typeof(SessionState), stateName);
            using var certs = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPfx(certs.PfxPath, certs.Password);
            using var proxy = TestProxy.Start(configure: o => o.Tls = new TlsOptions { Certificate = certificate });
            foreach (var command in Commands)
                await CheckAsync(proxy, true, state, command, certs.Thumbprint);
        }

        [Theory]
        [MemberData(nameof(PlainStateNames))]
        public async Task Over_the_wire_without_a_certificate_every_command_gets_the_table_reply_and_move(string stateName)
        {
            var state = (SessionState)Enum.Parse(typeof(SessionState), stateName);
            using var proxy = TestProxy.Start();
            foreach (var command in Commands)
                await CheckAsync(proxy, false, state, command, null);
        }

        [Fact]
        public async Task A_command_out_of_sequence_counts_as_a_client_error()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxErrors = 2);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint, greet: false);
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            Assert.Equal(NeedHelo, await c.SendAsync("MAIL FROM:<a@example.org>", "503"));
            Assert.Equal(NeedHelo, await c.SendAsync("DATA", "503"));
            await c.SendAsync("RCPT TO:<b@example.test>", "421 4.7.0");
            Assert.True(await c.IsClosedAsync(), proxy.Log);
        }

        static async Task CheckAsync(TestProxy proxy, bool tlsOffered, SessionState state,
                                     (SmtpVerb Verb, string Line, string Accepted) command, string thumbprint)
        {
            var where = state + ", '" + command.Line + "'";
            using var c = await ReachAsync(proxy, state, thumbprint);
            await c.WriteAsync(command.Line + "\r\n");
            var reply = await c.ReadReplyAsync();
            var refusal = FlagChecks(state, command.Verb, tlsOffered);
            if (refusal != null)
            {
                Assert.True(refusal == reply, where + ": got '" + reply + "', expected '" + refusal + "'");
                await AssertStateAsync(c, state, where + ", refused");
                return;
            }
            Assert.True(reply != null && reply.StartsWith(command.Accepted, StringComparison.Ordinal), where + ": got '" + reply + "'");
            switch (command.Verb)
            {
                case SmtpVerb.Ehlo:
                    Assert.True((tlsOffered && !Secure(state)) == reply.Contains("STARTTLS"), where + ": STARTTLS offer in " + reply);
                    break;
                case SmtpVerb.Quit:
                    Assert.True(await c.IsClosedAsync(), where + ": still open");
                    return;
                case SmtpVerb.Data:
                    await c.SendAsync("Subject: state table\r\n\r\nhello\r\n.", "250 2.0.0");
                    break;
                case SmtpVerb.StartTls:
                    await HandshakeAsync(c, thumbprint);
                    break;
            }
            await AssertStateAsync(c, Expected(state, command.Verb), where);
        }

        /// <summary>A fresh connection brought into <paramref name="state"/> by the shortest path.</summary>
        static async Task<LineClient> ReachAsync(TestProxy proxy, SessionState state, string thumbprint)
        {
            var c = await LineClient.ConnectAsync(proxy.EndPoint, greet: false);
            Assert.StartsWith("220 ", await c.ReadReplyAsync());
            if (Secure(state))
            {
                await c.SendAsync("EHLO client.example", "250");
                await c.SendAsync("STARTTLS", "220 2.0.0");
                await HandshakeAsync(c, thumbprint);
            }
            if (Phase(state) >= 1) await c.SendAsync("EHLO client.example", "250");
            if (Phase(state) >= 2) await c.SendAsync("MAIL FROM:<a@example.org>", "250 2.1.0");
            if (Phase(state) >= 3) await c.SendAsync("RCPT TO:<b@example.test>", "250 2.1.5");
            return c;
        }

        static async Task HandshakeAsync(LineClient c, string thumbprint)
        {
            var ssl = new SslStream(c.Stream, false, (_, certificate, _, _) => certificate?.GetCertHashString() == thumbprint);
            await ssl.AuthenticateAsClientAsync("localhost").WaitAsync(Patience);
            c.UseStream(ssl);
        }

        /// <summary>DATA tells the four phases apart; the stream tells whether TLS is on.</summary>
        static async Task AssertStateAsync(LineClient c, SessionState expected, string where)
        {
            Assert.True(Secure(expected) == c.Stream is SslStream, where + ": TLS should be " + Secure(expected));
            await c.WriteAsync("DATA\r\n");
            var reply = await c.ReadReplyAsync();
            var want = new[] { NeedHelo, NeedMail, NoRecipients, "354 " }[Phase(expected)];
            Assert.True(reply != null && reply.StartsWith(want, StringComparison.Ordinal), where + ": then DATA got '" + reply + "', expected " + expected);
            if (Phase(expected) == 3) await c.SendAsync(".", "250 2.0.0");
        }
    }
}
