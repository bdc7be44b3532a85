using System;
using System.Linq;
using System.Net.Security;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Smtp.Tls;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Tests.Tls;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Hostile
{
    /// <summary>
    /// Bytes no honest client sends: NUL, invalid UTF-8, garbage in place of a TLS handshake,
    /// commands inside DATA. Each gets a reply or a clean close; none ends in a 421 for an
    /// internal fault ("error" event), and the proxy goes on serving.
    /// </summary>
    [Collection("hostile")]
    public class GarbageInputTests
    {
        readonly ITestOutputHelper _output;
        public GarbageInputTests(ITestOutputHelper output) { _output = output; }

        static readonly byte[] Nul = { 0 };
        static readonly byte[] BadUtf8 = { 0xC3, 0x28, 0xFF, 0xFE, 0xE2, 0x82, 0xED, 0xA0, 0x80, 0xC0, 0xAF };   // truncated, invalid, overlong, surrogate

        static byte[] Bytes(params object[] parts) =>
            parts.SelectMany(p => p is byte[] b ? b : Encoding.ASCII.GetBytes((string)p)).ToArray();

        static void AssertNoInternalFault(TestProxy proxy) =>
            Assert.False(proxy.Events.Any(e => e.Kind == "error"), "internal fault logged:\n" + proxy.Log);

        async Task<string> SendRawAsync(HostileClient c, byte[] line)
        {
            await c.WriteAsync(Bytes(line, "\r\n"));
            var reply = await c.ReadReplyAsync();
            Assert.NotNull(reply);
            return reply;
        }

        public static TheoryData<string> Poisons => new TheoryData<string> { "nul", "utf8" };

        static byte[] Poison(string kind) => kind == "nul" ? Nul : BadUtf8;

        [Theory]
        [MemberData(nameof(Poisons))]
        public async Task Poisoned_HELO_is_answered_and_the_session_goes_on(string kind)
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint, greet: false);
            Assert.StartsWith("220", await c.ReadReplyAsync());
            foreach (var verb in new[] { "HELO", "EHLO" })
            {
                var reply = await SendRawAsync(c, Bytes(verb + " bad", Poison(kind), "name.example"));
                _output.WriteLine(verb + " with " + kind + ": " + reply.Split('\n')[0]);
                // Invalid UTF-8 in the name is refused (it used to become U+FFFD and get 250).
                Assert.Matches(kind == "utf8" ? "^501 5.5.4" : "^(250|501)", reply);
                // Whatever the name became, it is not echoed with control characters.
                Assert.True(reply.IndexOf('\0') < 0, "NUL echoed: " + reply);
            }
            await c.SendAsync("NOOP", "250");
            AssertNoInternalFault(proxy);
        }

        [Theory]
        [MemberData(nameof(Poisons))]
        public async Task Poisoned_MAIL_and_RCPT_are_refused_or_accepted_without_a_fault(string kind)
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            var p = Poison(kind);
            foreach (var mail in new[] { Bytes("MAIL FROM:<a", p, "b@example.org>"), Bytes("MAIL FROM:<ab@exa", p, "mple.org>"),
                                         Bytes("MAIL FROM:", p), Bytes("MAIL ", p, "FROM:<a@example.org>"),
                                         Bytes("MAIL FROM:<a@example.org> SIZE=1", p), Bytes("MAIL FROM:<a@example.org> SMTPUTF8 BODY=", p) })
            {
                var reply = await SendRawAsync(c, mail);
                _output.WriteLine(kind + " MAIL -> " + reply);
                Assert.Matches(kind == "utf8" ? "^5[05][0-9]" : "^(250|5[05][0-9])", reply);
                if (reply.StartsWith("250")) await c.SendAsync("RSET", "250");
            }
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            foreach (var rcpt in new[] { Bytes("RCPT TO:<r", p, "@example.test>"), Bytes("RCPT TO:<r@exam", p, "ple.test>"),
                                         Bytes("RCPT TO:", p), Bytes("RCPT TO:<r@example.test> ", p) })
            {
                var reply = await SendRawAsync(c, rcpt);
                _output.WriteLine(kind + " RCPT -> " + reply);
                Assert.Matches(kind == "utf8" ? "^5[05][0-9]" : "^(250|5[05][0-9])", reply);
            }
            await c.SendAsync("RCPT TO:<ok@example.test>", "250");
            await c.SendAsync("DATA", "354");
            await c.SendAsync("Subject: x\r\n\r\nx\r\n.", "250");
            // Nothing the parser let through became an envelope line with raw control characters.
            var envelope = Assert.Single(proxy.Spooled()).Envelope;
            Assert.DoesNotContain(envelope.Recipients, r => r.Address.Any(ch => ch < ' '));
            Assert.False(envelope.From.Any(ch => ch < ' '), "sender with control characters: " + envelope.From);
            AssertNoInternalFault(proxy);
        }

        [Theory]
        [MemberData(nameof(Poisons))]
        public async Task Poisoned_headers_and_body_are_stored_byte_for_byte(string kind)
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            var p = Poison(kind);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            var message = Bytes("Subject: ", p, "x\r\nX-", p, ": ", p, "\r\n", p, "\r\n\r\nbody ", p, " end\r\n", p, "\r\n");
            await c.WriteAsync(Bytes(message, ".\r\n"));
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
            await c.SendAsync("NOOP", "250");
            var body = Assert.Single(proxy.Spooled()).Body;
            // reference §9: content is not altered (no '?' for 8-bit bytes, NUL kept).
            var stored = body.Skip(Array.IndexOf(body, (byte)'\n') + 1).ToArray();
            while (stored.Length > 0 && (stored[0] == ' ' || stored[0] == '\t'))   // folded Received: continuation lines
                stored = stored.Skip(Array.IndexOf(stored, (byte)'\n') + 1).ToArray();
            Assert.Equal(message, stored);
            AssertNoInternalFault(proxy);
        }

        [Fact]
        public async Task Commands_inside_DATA_are_message_text()
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            const string text = "Subject: x\r\n\r\nQUIT\r\nRSET\r\nMAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.test>\r\nDATA\r\nSTARTTLS\r\n. \r\n.QUIT\r\n";
            await c.WriteAsync(text + ".\r\n");
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
            await c.SendAsync("NOOP", "250");
            var spooled = Assert.Single(proxy.Spooled());
            Assert.Equal(new[] { "<b@example.test>" }, spooled.Envelope.Recipients.Select(r => r.Address));
            // A leading dot is removed from any line but the terminator (RFC 5321 §4.5.2): ". " is text.
            Assert.EndsWith(text.Replace("\r\n. \r\n", "\r\n \r\n").Replace("\r\n.QUIT", "\r\nQUIT"), Encoding.ASCII.GetString(spooled.Body));
        }

        [Fact]
        public async Task Garbage_instead_of_a_TLS_handshake_closes_the_session_and_the_proxy_serves_on()
        {
            using var certs = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPfx(certs.PfxPath, certs.Password);
            using var proxy = TestProxy.Start(configure: o => o.Tls = new TlsOptions { Certificate = certificate, HandshakeTimeout = TimeSpan.FromSeconds(3) });

            var garbage = new byte[64 * 1024];
            new Random(6).NextBytes(garbage);
            var cases = new (string Name, byte[] Bytes)[]
            {
                ("random", garbage),
                ("smtp", Encoding.ASCII.GetBytes("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\n")),
                ("record header then junk", Bytes(new byte[] { 0x16, 0x03, 0x01, 0xFF, 0xFF }, garbage)),
                ("truncated hello", new byte[] { 0x16, 0x03, 0x01, 0x00, 0x40, 0x01, 0x00, 0x00, 0x3C, 0x03, 0x03 }),
            };
            foreach (var (name, bytes) in cases)
            {
                using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
                await c.SendAsync("STARTTLS", "220");
                try { await c.WriteAsync(bytes); }
                catch (System.IO.IOException) { }   // the server may already have closed
                var watch = System.Diagnostics.Stopwatch.StartNew();
                Assert.True(await c.IsClosedAsync(10000), name + ": still open; log:\n" + proxy.Log);
                _output.WriteLine("TLS garbage '" + name + "': closed after " + watch.ElapsedMilliseconds + " ms");
            }
            await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 0, proxy.Log);
            AssertNoInternalFault(proxy);

            // A real client still gets its TLS session.
            using var ok = await HostileClient.ConnectAsync(proxy.EndPoint);
            await ok.SendAsync("STARTTLS", "220");
            var ssl = new SslStream(ok.Stream, false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync("localhost");
            ok.UseStream(ssl);
            await ok.SendAsync("EHLO client.example", "250");
            await ok.SendAsync("QUIT", "221");
        }
    }
}
