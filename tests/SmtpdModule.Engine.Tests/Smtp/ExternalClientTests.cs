using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Smtp.Tls;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Tls;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// The receiver against SMTP clients we did not write: python3's smtplib (tests/fixtures/smtp/*.py)
    /// and swaks. Each test checks what the client saw and what the spool holds afterwards: the
    /// envelope, and the exact bytes after our Received: header.
    /// </summary>
    public class ExternalClientTests
    {
        const string Helo = "client.example.test";

        static object Send(TestProxy proxy, string from, string[] to, string message, string[] mailOptions = null, object starttls = null) => new
        {
            host = "127.0.0.1",
            port = proxy.EndPoint.Port,
            helo = Helo,
            timeout = 10,
            from,
            to,
            message,
            mail_options = mailOptions ?? Array.Empty<string>(),
            starttls,
        };

        static object Raw(TestProxy proxy, object[] steps, bool untilClose) => new
        {
            host = "127.0.0.1",
            port = proxy.EndPoint.Port,
            timeout = 10,
            steps,
            until_close = untilClose,
            close_timeout = 5,
        };

        static object Step(string send, int replies = 1) => new { send, replies };

        /// <summary>The spooled text after our Received: header (which ends at the CRLF after its date).</summary>
        internal static byte[] AfterReceived(byte[] body)
        {
            var text = Encoding.UTF8.GetString(body);
            Assert.StartsWith("Received: ", text);
            var headerEnd = text.IndexOf("\r\n", text.IndexOf(';'), StringComparison.Ordinal) + 2;
            var headerBytes = Encoding.UTF8.GetByteCount(text.Substring(0, headerEnd));
            return body.Skip(headerBytes).ToArray();
        }

        internal static string ReceivedHeader(byte[] body)
        {
            var text = Encoding.UTF8.GetString(body);
            return text.Substring(0, text.IndexOf("\r\n", text.IndexOf(';'), StringComparison.Ordinal));
        }

        static void AssertSent(JsonElement result, ProgramRun run)
        {
            Assert.True(result.GetProperty("result").GetString() == "sent", "smtplib did not send:\n" + run);
        }

        static (Envelope Envelope, byte[] Body) SingleSpooled(TestProxy proxy)
        {
            var all = proxy.Spooled();
            Assert.True(all.Count == 1, "expected one spooled message, found " + all.Count + "; server log:\n" + proxy.Log);
            return all[0];
        }

        static string[] Recipients(Envelope e) => e.Recipients.Select(r => r.Address).ToArray();

        [Fact]
        public async Task Smtplib_sends_a_plain_message_that_is_spooled_byte_for_byte()
        {
            using var proxy = TestProxy.Start();
            const string message = "From: <a@example.org>\r\nTo: <b@example.test>\r\nSubject: plain\r\n\r\nHello from smtplib.\r\n";

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, "a@example.org", new[] { "b@example.test" }, message));

            AssertSent(result, run);
            Assert.Empty(result.GetProperty("refused").EnumerateObject());
            var features = result.GetProperty("features");
            foreach (var extension in new[] { "pipelining", "size", "8bitmime", "enhancedstatuscodes", "smtputf8" })
                Assert.True(features.TryGetProperty(extension, out _), extension + " not offered: " + features);
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal("<a@example.org>", envelope.From);
            Assert.Equal(new[] { "<b@example.test>" }, Recipients(envelope));
            Assert.Equal(Helo, envelope.Helo);
            Assert.Equal("127.0.0.1", envelope.ClientAddress);
            Assert.Equal("ESMTP", envelope.Protocol);
            Assert.Equal(EnvelopeBodyType.SevenBit, envelope.Body);
            Assert.False(envelope.SmtpUtf8);
            Assert.Equal(message, Encoding.UTF8.GetString(AfterReceived(body)));
            Assert.Contains("with ESMTP id " + envelope.Id, ReceivedHeader(body));
        }

        [Fact]
        public async Task Swaks_pipelines_the_envelope_and_every_recipient_is_spooled()
        {
            // smtplib never pipelines: sendmail() waits for the reply to MAIL and to each RCPT before
            // the next command. swaks --pipeline sends MAIL, every RCPT and DATA in one go.
            using var proxy = TestProxy.Start();

            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--pipeline", "--from", "a@example.org", "--to", "b@example.test,c@example.test,d@example.test",
                "--data", "Subject: pipelined\\n\\nthree recipients",   // swaks ends the text with CRLF itself
            });

            Assert.True(run.ExitCode == 0, run.ToString());
            var lines = run.Stdout.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            int mail = lines.FindIndex(l => l.StartsWith(" -> MAIL FROM:"));
            int data = lines.FindIndex(l => l == " -> DATA");
            int firstReplyAfterMail = lines.FindIndex(mail + 1, l => l.StartsWith("<-"));
            Assert.True(mail >= 0 && data > mail && firstReplyAfterMail > data,
                "swaks did not send MAIL, RCPT and DATA before reading a reply:\n" + run);
            Assert.Equal(3, lines.Count(l => l.StartsWith(" -> RCPT TO:")));

            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal("<a@example.org>", envelope.From);
            Assert.Equal(new[] { "<b@example.test>", "<c@example.test>", "<d@example.test>" }, Recipients(envelope));
            Assert.Equal("Subject: pipelined\r\n\r\nthree recipients\r\n", Encoding.UTF8.GetString(AfterReceived(body)));
        }

        [Fact]
        public async Task Smtplib_dot_stuffing_is_undone_and_the_spool_holds_the_original_lines()
        {
            using var proxy = TestProxy.Start();
            const string message = "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\n...\r\nnot a dot.\r\n.\r\nlast\r\n";

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, "a@example.org", new[] { "b@example.test" }, message));

            AssertSent(result, run);
            // smtplib's own transcript (bytes as Python writes them) shows it stuffed the lines.
            Assert.Contains(@"\r\n..leading dot\r\n...two dots\r\n..\r\n....\r\n", result.GetProperty("debug").GetString());
            var (_, body) = SingleSpooled(proxy);
            Assert.Equal(message, Encoding.UTF8.GetString(AfterReceived(body)));
        }

        [Fact]
        public async Task Bare_lf_lines_from_swaks_are_stored_with_crlf()
        {
            using var proxy = TestProxy.Start();

            // --no-data-fixup sends the text as it is and then a CRLF; so the last line here is
            // the terminating dot, and the lines before it end in bare LFs, but for one in CRLF
            // and the one before the dot: only CRLF "." CRLF ends the text (SmugglingTests).
            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--from", "a@example.org", "--to", "b@example.test", "--no-data-fixup",
                "--data", "Subject: bare lf\n\nline one\nline two\r\nline three\n\r\n.",
            });

            Assert.True(run.ExitCode == 0, run.ToString());
            var (_, body) = SingleSpooled(proxy);
            Assert.Equal("Subject: bare lf\r\n\r\nline one\r\nline two\r\nline three\r\n\r\n", Encoding.UTF8.GetString(AfterReceived(body)));
        }

        [Fact]
        public async Task Smtplib_eight_bit_body_with_BODY_8BITMIME_is_stored_byte_for_byte()
        {
            using var proxy = TestProxy.Start();
            const string message = "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                                   + "Grüße aus Köln, naïve café, Ελληνικά, 日本語 — ✓\r\n";

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "a@example.org", new[] { "b@example.test" }, message, new[] { "BODY=8BITMIME" }));

            AssertSent(result, run);
            Assert.Contains("BODY=8BITMIME", result.GetProperty("debug").GetString());
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal(EnvelopeBodyType.EightBitMime, envelope.Body);
            Assert.Equal(Encoding.UTF8.GetBytes(message), AfterReceived(body));
        }

        [Fact]
        public async Task Smtplib_SMTPUTF8_keeps_the_utf8_addresses_in_the_envelope()
        {
            using var proxy = TestProxy.Start();
            const string message = "From: Jörg <jörg@exämple.org>\r\nTo: <dörte@example.test>\r\nSubject: grüße\r\n\r\nUTF-8 everywhere.\r\n";

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "jörg@exämple.org", new[] { "dörte@example.test", "ñandú@bücher.example.test" }, message, new[] { "SMTPUTF8" }));

            AssertSent(result, run);
            Assert.Empty(result.GetProperty("refused").EnumerateObject());
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal("<jörg@exämple.org>", envelope.From);
            Assert.Equal(new[] { "<dörte@example.test>", "<ñandú@bücher.example.test>" }, Recipients(envelope));
            Assert.True(envelope.SmtpUtf8);
            Assert.Equal("UTF8SMTP", envelope.Protocol);
            Assert.Contains("with UTF8SMTP id " + envelope.Id, ReceivedHeader(body));
            Assert.Equal(Encoding.UTF8.GetBytes(message), AfterReceived(body));
        }

        [Fact]
        public async Task Smtplib_STARTTLS_verifies_the_test_certificate_and_the_received_header_says_ESMTPS()
        {
            using var certs = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPfx(certs.PfxPath, certs.Password);
            using var proxy = TestProxy.Start(configure: o => o.Tls = new TlsOptions { Certificate = certificate });
            const string message = "Subject: over TLS\r\n\r\nsecret\r\n";

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "a@example.org", new[] { "b@example.test" }, message, starttls: new { cafile = certs.CertPemPath }));

            AssertSent(result, run);
            var tls = result.GetProperty("tls");
            Assert.StartsWith("TLSv1.", tls.GetProperty("version").GetString());
            Assert.Equal("localhost", tls.GetProperty("peer").GetProperty("commonName").GetString());
            Assert.False(result.GetProperty("features").TryGetProperty("starttls", out _), "STARTTLS offered again after the handshake:\n" + run);
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal("ESMTPS", envelope.Protocol);
            Assert.Contains("with ESMTPS id " + envelope.Id, ReceivedHeader(body));
            Assert.Equal(message, Encoding.UTF8.GetString(AfterReceived(body)));
        }

        [Fact]
        public async Task Swaks_STARTTLS_with_certificate_verification_is_spooled_as_ESMTPS()
        {
            using var certs = TestCertificates.Create();
            using var certificate = ServerCertificate.FromPfx(certs.PfxPath, certs.Password);
            using var proxy = TestProxy.Start(configure: o => o.Tls = new TlsOptions { Certificate = certificate });

            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--tls", "--tls-verify", "--tls-ca-path", certs.CertPemPath,
                "--from", "a@example.org", "--to", "b@example.test", "--data", "Subject: swaks over TLS\\n\\nsecret",
            });

            if (run.Stderr.Contains("Net::SSLeay"))
                throw new Xunit.Sdk.XunitException("swaks cannot speak TLS without the Perl module Net::SSLeay: install libnet-ssleay-perl "
                                                   + "(tests/tools/install-test-deps.sh should list it).\n" + run);
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("=== TLS started", run.Stdout);
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal("ESMTPS", envelope.Protocol);
            Assert.Equal("Subject: swaks over TLS\r\n\r\nsecret\r\n", Encoding.UTF8.GetString(AfterReceived(body)));
        }

        [Fact]
        public async Task Swaks_oversize_body_gets_552_after_the_data_and_nothing_is_spooled()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxMessageSize = 1000);
            var lines = string.Concat(Enumerable.Repeat(new string('x', 98) + "\\n", 30));

            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--from", "a@example.org", "--to", "b@example.test", "--data", "Subject: big\\n\\n" + lines,
            });

            Assert.True(run.ExitCode != 0, "swaks reported success for an oversize message:\n" + run);
            Assert.Contains("<-  354", run.Stdout);
            Assert.Contains("<** 552 5.3.4", run.Stdout);
            Assert.Contains("<-  221", run.Stdout);   // the session went on: QUIT was answered
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task Smtplib_declares_SIZE_and_a_size_over_the_limit_is_refused_at_MAIL()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxMessageSize = 1000);
            var message = "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 98) + "\r\n", 30));

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, "a@example.org", new[] { "b@example.test" }, message));

            Assert.Equal("error", result.GetProperty("result").GetString());
            var error = result.GetProperty("error");
            Assert.True(error.GetProperty("type").GetString() == "SMTPSenderRefused", run.ToString());
            Assert.Equal(552, error.GetProperty("code").GetInt32());
            Assert.StartsWith("5.3.4", error.GetProperty("text").GetString());
            Assert.Contains("size=" + Encoding.UTF8.GetByteCount(message), result.GetProperty("debug").GetString());
            Assert.DoesNotContain("send: 'rcpt", result.GetProperty("debug").GetString());
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task A_silent_client_gets_421_4_4_2_after_the_read_timeout_and_is_disconnected()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.ReadTimeout = TimeSpan.FromMilliseconds(500));

            var (result, run) = await ExternalClient.PythonAsync("raw_session.py", Raw(proxy, Array.Empty<object>(), untilClose: true));

            var replies = result.GetProperty("replies").EnumerateArray().Select(r => r.GetString()).ToArray();
            Assert.True(replies.Length == 2, run.ToString());
            Assert.StartsWith("220 ", replies[0]);
            Assert.StartsWith("421 4.4.2 ", replies[1]);
            Assert.True(result.GetProperty("closed").GetBoolean(), "the connection stayed open:\n" + run);
            // From the start of the connect, so the whole read timeout lies inside what is measured.
            Assert.InRange(result.GetProperty("elapsed_ms").GetInt32(), 450, 5000);
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task Smtplib_to_five_recipients_with_a_limit_of_three_gets_452_for_two_and_three_are_spooled()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxRecipients = 3);
            var to = Enumerable.Range(1, 5).Select(i => "r" + i + "@example.test").ToArray();

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, "a@example.org", to, "Subject: many\r\n\r\nfive\r\n"));

            AssertSent(result, run);
            var refused = result.GetProperty("refused").EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
            Assert.Equal(new[] { "r4@example.test", "r5@example.test" }, refused.Keys.OrderBy(k => k));
            foreach (var r in refused.Values)
            {
                Assert.Equal(452, r[0].GetInt32());
                Assert.StartsWith("4.5.3", r[1].GetString());
            }
            var (envelope, _) = SingleSpooled(proxy);
            Assert.Equal(new[] { "<r1@example.test>", "<r2@example.test>", "<r3@example.test>" }, Recipients(envelope));
        }

        [Fact]
        public async Task Noto_refuses_one_recipient_for_smtplib_and_the_message_is_spooled_for_the_rest()
        {
            using var proxy = TestProxy.Start("noto:ALL:ALL:*@spam.test:550 5.7.1 no mail for %T\nallow:ALL:ALL:ALL\n");

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "a@example.org", new[] { "b@example.test", "x@spam.test", "c@example.test" }, "Subject: noto\r\n\r\nbody\r\n"));

            AssertSent(result, run);
            var refused = Assert.Single(result.GetProperty("refused").EnumerateObject());
            Assert.Equal("x@spam.test", refused.Name);
            Assert.Equal(550, refused.Value[0].GetInt32());
            Assert.Equal("5.7.1 no mail for <x@spam.test>", refused.Value[1].GetString());
            var (envelope, body) = SingleSpooled(proxy);
            Assert.Equal(new[] { "<b@example.test>", "<c@example.test>" }, Recipients(envelope));
            Assert.Equal("Subject: noto\r\n\r\nbody\r\n", Encoding.UTF8.GetString(AfterReceived(body)));
        }

        const string DenyRules = "deny:ALL:ALL:*@evil.test:554 5.7.1 go away %T\nallow:ALL:ALL:ALL\n";

        [Fact]
        public async Task Deny_seen_by_smtplib_refuses_the_transaction_and_nothing_is_spooled()
        {
            using var proxy = TestProxy.Start(DenyRules);

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "a@example.org", new[] { "b@example.test", "y@evil.test", "c@example.test" }, "Subject: deny\r\n\r\nbody\r\n"));

            // smtplib reads the rule's reply as the answer to RCPT y@, and the 421 behind it as the
            // answer to the next RCPT, upon which it closes and raises.
            Assert.Equal("error", result.GetProperty("result").GetString());
            var error = result.GetProperty("error");
            Assert.True(error.GetProperty("type").GetString() == "SMTPRecipientsRefused", run.ToString());
            var refused = error.GetProperty("recipients");
            Assert.Equal(554, refused.GetProperty("y@evil.test")[0].GetInt32());
            Assert.Equal("5.7.1 go away <y@evil.test>", refused.GetProperty("y@evil.test")[1].GetString());
            Assert.Equal(421, refused.GetProperty("c@example.test")[0].GetInt32());
            Assert.DoesNotContain("send: 'data", result.GetProperty("debug").GetString());
            Assert.Empty(proxy.Spooled());
            Assert.Equal(1, proxy.Proxy.Counters.Denied);
        }

        [Fact]
        public async Task Deny_on_the_wire_is_the_rule_reply_then_421_then_the_close()
        {
            using var proxy = TestProxy.Start(DenyRules);

            var (result, run) = await ExternalClient.PythonAsync("raw_session.py", Raw(proxy, new[]
            {
                Step("EHLO " + Helo + "\r\n"),
                Step("MAIL FROM:<a@example.org>\r\n"),
                Step("RCPT TO:<b@example.test>\r\n"),
                Step("RCPT TO:<y@evil.test>\r\n", replies: 2),
            }, untilClose: true));

            var replies = result.GetProperty("replies").EnumerateArray().Select(r => r.GetString()).ToArray();
            Assert.True(replies.Length == 6, run.ToString());
            Assert.StartsWith("250 2.1.5", replies[3]);
            Assert.Equal("554 5.7.1 go away <y@evil.test>", replies[4]);
            Assert.StartsWith("421 4.7.1 ", replies[5]);
            Assert.True(result.GetProperty("closed").GetBoolean(), "the connection stayed open after the 421:\n" + run);
            Assert.Empty(proxy.Spooled());
        }
    }
}
