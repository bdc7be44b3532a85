using System;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Tls;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>SmtpTransport against aiosmtpd (tests/fixtures/downstream/smtp_server.py).</summary>
    public class SmtpTransportTests
    {
        static SmtpTransport Transport(int port, Action<SmtpTransportOptions> configure = null) => TestTransports.Smtp(port, configure);

        static void Trust(SmtpTransportOptions o, TestCertificates certs) =>
            o.ServerCertificateValidationCallback = (sender, certificate, chain, errors) =>
                certificate != null && string.Equals(certificate.GetCertHashString(), certs.Thumbprint, StringComparison.OrdinalIgnoreCase);

        static string[] Rcpts(JsonElement message) => message.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()).ToArray();
        static string[] MailOptions(JsonElement message) => message.GetProperty("mail_options").EnumerateArray().Select(e => e.GetString()).ToArray();

        [DownstreamFact]
        public async Task Delivers_exactly_the_spooled_bytes_with_8BITMIME()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var body = TestMessages.Awkward();
            var message = TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "b@example.com");

            var result = await transport.DeliverAsync(message);

            var r = Assert.Single(result.Recipients);
            Assert.Equal(DeliveryOutcome.Delivered, r.Outcome);
            Assert.Equal("2.0.0", r.Status);
            Assert.StartsWith("250 2.0.0 Ok: queued as test-1", r.Diagnostic);
            Assert.Equal("smtp", r.DiagnosticType);
            Assert.Equal("127.0.0.1", result.RemoteMta);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal(body, server.Bytes(received));
            Assert.Contains("BODY=8BITMIME", MailOptions(received));
            Assert.Contains("SIZE=" + body.Length, MailOptions(received));
            Assert.Equal("a@example.org", received.GetProperty("mail_from").GetString());
            Assert.Equal("relay.example.net", received.GetProperty("helo").GetString());
        }

        [DownstreamFact]
        public async Task A_7bit_message_goes_without_a_BODY_parameter()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var body = TestMessages.Simple();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal(body, server.Bytes(received));
            Assert.DoesNotContain(MailOptions(received), o => o.StartsWith("BODY="));
        }

        [DownstreamFact]
        public async Task Without_8BITMIME_on_the_server_the_8bit_bytes_still_go_unchanged()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--no-8bitmime");
            using var transport = Transport(server.Port);
            var body = TestMessages.Awkward();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal(body, server.Bytes(received));
            Assert.DoesNotContain(MailOptions(received), o => o.StartsWith("BODY="));
        }

        [DownstreamFact]
        public async Task A_message_without_a_final_CRLF_gets_one_and_nothing_else()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var body = TestMessages.Simple();
            var cut = body.Take(body.Length - 2).ToArray();

            var result = await transport.DeliverAsync(TestMessages.Create(cut, "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            Assert.Equal(body, server.Bytes(Assert.Single(await server.WaitForMessagesAsync(1))));
        }

        [DownstreamFact]
        public async Task Each_recipient_gets_its_own_reply_and_the_accepted_ones_the_data()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var message = TestMessages.Create(TestMessages.Simple(), "a@example.org",
                "ok1@example.com", "temp@example.com", "perm@example.com", "plain5@example.com", "ok2@example.com");

            var result = await transport.DeliverAsync(message);

            Assert.Equal(5, result.Recipients.Count);
            Assert.Equal(message.Recipients, result.Recipients.Select(r => r.Recipient));
            Assert.Equal(new[] { DeliveryOutcome.Delivered, DeliveryOutcome.Deferred, DeliveryOutcome.Failed, DeliveryOutcome.Failed, DeliveryOutcome.Delivered },
                result.Recipients.Select(r => r.Outcome));
            Assert.Equal(new[] { "2.0.0", "4.2.1", "5.1.1", "5.0.0", "2.0.0" }, result.Recipients.Select(r => r.Status));
            Assert.Equal("450 4.2.1 Mailbox busy (test)", result.Recipients[1].Diagnostic);
            Assert.Equal("550 5.1.1 No such user (test)", result.Recipients[2].Diagnostic);
            Assert.Equal("550 No such user here", result.Recipients[3].Diagnostic);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal(new[] { "ok1@example.com", "ok2@example.com" }, Rcpts(received));
        }

        [DownstreamFact]
        public async Task When_every_recipient_is_refused_no_data_is_sent_and_the_connection_stays_usable()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);

            var refused = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "temp@example.com", "perm@example.com"));
            var next = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(new[] { DeliveryOutcome.Deferred, DeliveryOutcome.Failed }, refused.Recipients.Select(r => r.Outcome));
            Assert.Equal(DeliveryOutcome.Delivered, next.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal(new[] { "b@example.com" }, Rcpts(received));
            Assert.Equal(1, server.Sessions);
        }

        [DownstreamFact]
        public async Task A_refusal_of_the_data_applies_to_the_accepted_recipients_only()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);

            var temp = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "data-temp@example.com", "perm@example.com", "x@example.com"));
            var perm = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "data-perm@example.com", "temp@example.com"));

            Assert.Equal(new[] { DeliveryOutcome.Deferred, DeliveryOutcome.Failed, DeliveryOutcome.Deferred }, temp.Recipients.Select(r => r.Outcome));
            Assert.Equal(new[] { "4.3.0", "5.1.1", "4.3.0" }, temp.Recipients.Select(r => r.Status));
            Assert.Equal("451 4.3.0 Try again later (test)", temp.Recipients[0].Diagnostic);
            Assert.Equal(new[] { DeliveryOutcome.Failed, DeliveryOutcome.Deferred }, perm.Recipients.Select(r => r.Outcome));
            Assert.Equal(new[] { "5.6.0", "4.2.1" }, perm.Recipients.Select(r => r.Status));
            Assert.Empty(server.Messages);
            Assert.Equal(1, server.Sessions);
        }

        [DownstreamFact]
        public async Task A_refused_sender_decides_for_every_recipient()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);

            var temp = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "temp@example.org", "b@example.com", "perm@example.com"));
            var perm = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "perm@example.org", "b@example.com", "c@example.com"));

            Assert.All(temp.Recipients, r => Assert.Equal((DeliveryOutcome.Deferred, "4.3.2", "451 4.3.2 Sender temporarily refused (test)"), (r.Outcome, r.Status, r.Diagnostic)));
            Assert.All(perm.Recipients, r => Assert.Equal((DeliveryOutcome.Failed, "5.7.1"), (r.Outcome, r.Status)));
            Assert.Empty(server.Messages);
        }

        [DownstreamFact]
        public async Task Duplicate_recipients_share_one_RCPT_and_each_gets_a_result()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var message = TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com", "B@Example.com", "temp@example.com", "temp@example.com");

            var result = await transport.DeliverAsync(message);

            Assert.Equal(new[] { 0, 1, 2, 3 }, result.Recipients.Select(r => r.Recipient.Index));
            Assert.Equal(new[] { DeliveryOutcome.Delivered, DeliveryOutcome.Delivered, DeliveryOutcome.Deferred, DeliveryOutcome.Deferred }, result.Recipients.Select(r => r.Outcome));
            Assert.Equal(new[] { "b@example.com" }, Rcpts(Assert.Single(await server.WaitForMessagesAsync(1))));
        }

        [DownstreamFact]
        public async Task Messages_in_a_row_share_one_connection()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);

            for (var i = 0; i < 5; i++)
            {
                var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("n" + i), "a@example.org", "b@example.com"));
                Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            }

            var received = await server.WaitForMessagesAsync(5);
            Assert.Equal(1, server.Sessions);
            Assert.All(received, m => Assert.Equal(1, m.GetProperty("session").GetInt32()));
            Assert.Equal(1, transport.IdleConnections);
        }

        [DownstreamFact]
        public async Task Concurrent_deliveries_use_at_most_MaxConnections_sessions()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port, o => o.MaxConnections = 2);

            var results = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
                transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("n" + i), "a@example.org", "b" + i + "@example.com"))));

            Assert.All(results, r => Assert.Equal(DeliveryOutcome.Delivered, r.Recipients[0].Outcome));
            await server.WaitForMessagesAsync(12);
            Assert.InRange(server.Sessions, 1, 2);
            Assert.InRange(transport.IdleConnections, 1, 2);
        }

        [DownstreamFact]
        public async Task A_pooled_connection_the_server_closed_is_replaced_without_deferring()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--close-after-message");
            using var transport = Transport(server.Port);

            var first = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("1"), "a@example.org", "b@example.com"));
            await server.WaitForMessagesAsync(1);
            var second = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("2"), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, first.Recipients[0].Outcome);
            Assert.Equal(DeliveryOutcome.Delivered, second.Recipients[0].Outcome);
            await server.WaitForMessagesAsync(2);
            Assert.Equal(2, server.Sessions);
        }

        [DownstreamFact]
        public async Task An_idle_connection_is_checked_with_NOOP_before_reuse()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--close-after-message");
            using var transport = Transport(server.Port, o => o.IdleCheckInterval = TimeSpan.Zero);

            await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("1"), "a@example.org", "b@example.com"));
            await server.WaitForMessagesAsync(1);
            var second = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple("2"), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, second.Recipients[0].Outcome);
            Assert.Equal(2, server.Sessions);
        }

        [DownstreamFact]
        public async Task A_connection_lost_mid_transaction_defers_the_open_recipients_and_is_not_reused()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "perm@example.com", "b@example.com", "drop@example.com", "c@example.com"));

            Assert.Equal(DeliveryOutcome.Failed, result.Recipients[0].Outcome);
            Assert.All(result.Recipients.Skip(1), r => Assert.Equal((DeliveryOutcome.Deferred, "4.4.2"), (r.Outcome, r.Status)));
            Assert.Equal(0, transport.IdleConnections);
            var next = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));
            Assert.Equal(DeliveryOutcome.Delivered, next.Recipients[0].Outcome);
            Assert.Equal(2, server.Sessions);
        }

        [Fact]
        public async Task A_refused_connection_defers_everyone_with_4_4_1()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();   // nothing listens there now
            using var transport = Transport(port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Deferred, "4.4.1", "x-local"), (r.Outcome, r.Status, r.DiagnosticType)));
            Assert.Contains("refused", result.Recipients[0].Diagnostic);
            Assert.Null(result.RemoteMta);
        }

        [Fact]
        public async Task A_server_that_never_greets_defers_within_the_connect_timeout()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();   // accepts in the kernel's backlog, never speaks
            try
            {
                using var transport = Transport(((IPEndPoint)listener.LocalEndpoint).Port, o => o.ConnectTimeout = TimeSpan.FromMilliseconds(500));

                var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

                Assert.Equal((DeliveryOutcome.Deferred, "4.4.1"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
                Assert.Contains("no answer", result.Recipients[0].Diagnostic);
            }
            finally
            {
                listener.Stop();
            }
        }

        [DownstreamFact]
        public async Task Required_STARTTLS_is_used()
        {
            using var certs = TestCertificates.Create();
            using var server = await DownstreamSmtpServer.StartAsync("--starttls", "--require-starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath);
            using var transport = Transport(server.Port, o => { o.TlsMode = SmtpTlsMode.StartTls; Trust(o, certs); });
            var body = TestMessages.Awkward();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.True(received.GetProperty("tls").GetBoolean());
            Assert.Equal(body, server.Bytes(received));
        }

        [DownstreamFact]
        public async Task Required_STARTTLS_that_the_server_does_not_offer_defers_with_4_7_0()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port, o => o.TlsMode = SmtpTlsMode.StartTls);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.7.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Contains("STARTTLS", result.Recipients[0].Diagnostic);
            Assert.Empty(server.Messages);
        }

        [DownstreamFact]
        public async Task STARTTLS_when_available_is_used_when_offered_and_skipped_when_not()
        {
            using var certs = TestCertificates.Create();
            using var tls = await DownstreamSmtpServer.StartAsync("--starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath);
            using var plain = await DownstreamSmtpServer.StartAsync();
            using var toTls = Transport(tls.Port, o => { o.TlsMode = SmtpTlsMode.StartTlsWhenAvailable; Trust(o, certs); });
            using var toPlain = Transport(plain.Port, o => { o.TlsMode = SmtpTlsMode.StartTlsWhenAvailable; Trust(o, certs); });

            var a = await toTls.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));
            var b = await toPlain.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, a.Recipients[0].Outcome);
            Assert.Equal(DeliveryOutcome.Delivered, b.Recipients[0].Outcome);
            Assert.True(Assert.Single(await tls.WaitForMessagesAsync(1)).GetProperty("tls").GetBoolean());
            Assert.False(Assert.Single(await plain.WaitForMessagesAsync(1)).GetProperty("tls").GetBoolean());
        }

        [DownstreamFact]
        public async Task A_certificate_that_does_not_validate_defers_with_4_7_0()
        {
            using var certs = TestCertificates.Create();
            using var server = await DownstreamSmtpServer.StartAsync("--starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath);
            // No callback: the system validates, and a self-signed certificate is not trusted.
            using var transport = Transport(server.Port, o => o.TlsMode = SmtpTlsMode.StartTlsWhenAvailable);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.7.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Contains("TLS", result.Recipients[0].Diagnostic);
            Assert.Empty(server.Messages);
        }

        [DownstreamFact]
        public async Task Implicit_TLS_is_used_from_the_first_byte()
        {
            using var certs = TestCertificates.Create();
            using var server = await DownstreamSmtpServer.StartAsync("--implicit-tls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath);
            using var transport = Transport(server.Port, o => { o.TlsMode = SmtpTlsMode.Implicit; Trust(o, certs); });
            var body = TestMessages.Awkward();

            var first = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "b@example.com"));
            var second = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "c@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, first.Recipients[0].Outcome);
            Assert.Equal(DeliveryOutcome.Delivered, second.Recipients[0].Outcome);
            var received = await server.WaitForMessagesAsync(2);
            Assert.All(received, m => Assert.True(m.GetProperty("tls").GetBoolean()));
            Assert.Equal(body, server.Bytes(received[1]));
            Assert.Equal(1, server.Sessions);
        }

        [DownstreamFact]
        public async Task AUTH_is_sent_over_TLS()
        {
            using var certs = TestCertificates.Create();
            using var server = await DownstreamSmtpServer.StartAsync("--starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath, "--auth", "relay:s3cret", "--auth-required");
            using var transport = Transport(server.Port, o => { o.TlsMode = SmtpTlsMode.StartTls; Trust(o, certs); o.Credential = new NetworkCredential("relay", "s3cret"); });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            Assert.Equal("relay", Assert.Single(await server.WaitForMessagesAsync(1)).GetProperty("login").GetString());
        }

        [DownstreamFact]
        public async Task A_wrong_password_defers_with_4_7_0()
        {
            using var certs = TestCertificates.Create();
            using var server = await DownstreamSmtpServer.StartAsync("--starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath, "--auth", "relay:s3cret", "--auth-required");
            using var transport = Transport(server.Port, o => { o.TlsMode = SmtpTlsMode.StartTls; Trust(o, certs); o.Credential = new NetworkCredential("relay", "wrong"); });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.7.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Contains("authentication", result.Recipients[0].Diagnostic);
            Assert.Equal("127.0.0.1", result.RemoteMta);
            Assert.Empty(server.Messages);
        }

        [DownstreamFact]
        public async Task Credentials_are_not_sent_in_plain_text_unless_allowed()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--auth", "relay:s3cret", "--auth-plaintext");
            using var refusing = Transport(server.Port, o => o.Credential = new NetworkCredential("relay", "s3cret"));
            using var allowing = Transport(server.Port, o => { o.Credential = new NetworkCredential("relay", "s3cret"); o.AllowPlainTextAuthentication = true; });

            var refused = await refusing.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));
            var allowed = await allowing.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "c@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.7.0"), (refused.Recipients[0].Outcome, refused.Recipients[0].Status));
            Assert.Contains("AllowPlainTextAuthentication", refused.Recipients[0].Diagnostic);
            Assert.Equal(DeliveryOutcome.Delivered, allowed.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Equal("relay", received.GetProperty("login").GetString());
            Assert.Equal(new[] { "c@example.com" }, Rcpts(received));
        }

        [DownstreamFact]
        public async Task SMTPUTF8_is_used_when_the_envelope_asks_and_the_server_offers()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--smtputf8");
            using var transport = Transport(server.Port);
            var body = Encoding.UTF8.GetBytes("Received: from x\r\nFrom: José <josé@exämple.org>\r\nSubject: ¡olé!\r\n\r\nçà\r\n");

            var result = await transport.DeliverAsync(TestMessages.Create(body, "josé@exämple.org", EnvelopeBodyType.EightBitMime, true, "zoë@exämple.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            var received = Assert.Single(await server.WaitForMessagesAsync(1));
            Assert.Contains("SMTPUTF8", MailOptions(received));
            Assert.Equal("josé@exämple.org", received.GetProperty("mail_from").GetString());
            Assert.Equal(new[] { "zoë@exämple.com" }, Rcpts(received));
            Assert.Equal(body, server.Bytes(received));
        }

        [DownstreamFact]
        public async Task SMTPUTF8_needed_but_not_offered_fails_with_5_6_7()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var body = Encoding.UTF8.GetBytes("Received: from x\r\nSubject: ¡olé!\r\n\r\nçà\r\n");

            var result = await transport.DeliverAsync(TestMessages.Create(body, "josé@exämple.org", EnvelopeBodyType.EightBitMime, true, "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Failed, "5.6.7"), (r.Outcome, r.Status)));
            Assert.Empty(server.Messages);
        }

        [DownstreamFact]
        public async Task A_cancelled_delivery_throws_and_leaves_the_transport_usable()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"), cancelled.Token));
            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
        }

        [Fact]
        public async Task Null_message_is_refused()
        {
            using var transport = Transport(25);
            await Assert.ThrowsAsync<ArgumentNullException>(() => transport.DeliverAsync(null));
            Assert.Equal("smtp:127.0.0.1:25", transport.Target);
        }

        [Fact]
        public void Implicit_TLS_defaults_to_port_465_and_the_rest_to_25()
        {
            using var implicitTls = new SmtpTransport(new SmtpTransportOptions { Host = "mx.example.net", TlsMode = SmtpTlsMode.Implicit });
            using var plain = new SmtpTransport(new SmtpTransportOptions { Host = "mx.example.net" });
            Assert.Equal("smtp:mx.example.net:465", implicitTls.Target);
            Assert.Equal("smtp:mx.example.net:25", plain.Target);
            Assert.Throws<ArgumentException>(() => new SmtpTransport(new SmtpTransportOptions()));
            Assert.Throws<ArgumentException>(() => new SmtpTransport(new SmtpTransportOptions { Host = "x", MaxConnections = 0 }));
        }
    }
}
