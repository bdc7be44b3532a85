using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Tls;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>Callaheads to a real downstream (aiosmtpd on loopback) that knows alice and bob.</summary>
    public class CallaheadSourceTests
    {
        internal static readonly string[] TwoUsers =
        {
            "--users", "alice,bob", "--log-commands",
            "--rcpt-reply", "policy=550 5.7.1 Relaying denied (test)",
            "--rcpt-reply", "sender=550 5.1.8 Sender address rejected (test)",
        };

        internal static CallaheadOptions Options(DownstreamSmtpServer server) => new CallaheadOptions
        {
            Host = "127.0.0.1",
            Port = server.Port,
            HeloName = "proxy.test",
        };

        internal static IReadOnlyList<JsonElement> Commands(DownstreamSmtpServer server, int session) =>
            server.Of("command").Where(e => e.GetProperty("session").GetInt32() == session).ToList();

        internal static string Verb(JsonElement e) => e.GetProperty("verb").GetString();

        [DownstreamFact]
        public async Task The_downstream_reply_decides_the_answer()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers);
            var source = new CallaheadSource(Options(server));
            var cases = new (string Address, MailboxStatus Expected, string Reply)[]
            {
                ("alice@example.test", MailboxStatus.Known, "250"),
                ("BOB@example.test", MailboxStatus.Known, "250"),
                ("carol@example.test", MailboxStatus.Unknown, "550 5.1.1"),
                ("policy@example.test", MailboxStatus.Unavailable, "550 5.7.1"),
                ("sender@example.test", MailboxStatus.Unavailable, "550 5.1.8"),
                ("temp@example.test", MailboxStatus.Unavailable, "450 4.2.1"),
                // A bare 550 from a server without ENHANCEDSTATUSCODES is the one "no such user" it can say.
                ("plain5@example.test", MailboxStatus.Unknown, "550 No such user"),
            };

            foreach (var (address, expected, reply) in cases)
            {
                var answer = await source.CheckAsync(address);

                Assert.True(expected == answer.Status, address + ": " + answer);
                Assert.Equal("callahead", answer.Source);
                Assert.False(answer.FromCache);
                Assert.Contains(reply, answer.Detail);
                Assert.Contains("127.0.0.1:" + server.Port, answer.Detail);
            }
        }

        [DownstreamFact]
        public async Task Required_STARTTLS_is_used_and_its_absence_is_unavailable()
        {
            using var certs = TestCertificates.Create();
            using (var tls = await DownstreamSmtpServer.StartAsync(TwoUsers.Concat(new[] { "--starttls", "--require-starttls", "--cert", certs.CertPemPath, "--key", certs.KeyPemPath }).ToArray()))
            {
                var options = Options(tls);
                options.TlsMode = CallaheadTlsMode.StartTls;
                options.ServerCertificateValidationCallback = (sender, certificate, chain, errors) =>
                    certificate != null && string.Equals(certificate.GetCertHashString(), certs.Thumbprint, StringComparison.OrdinalIgnoreCase);
                Assert.Equal(MailboxStatus.Known, (await new CallaheadSource(options).CheckAsync("alice@example.test")).Status);
                Assert.Contains(tls.Of("command"), e => Verb(e) == "STARTTLS");
            }
            using (var plain = await DownstreamSmtpServer.StartAsync(TwoUsers))
            {
                var options = Options(plain);
                options.TlsMode = CallaheadTlsMode.StartTls;
                var answer = await new CallaheadSource(options).CheckAsync("alice@example.test");
                Assert.Equal(MailboxStatus.Unavailable, answer.Status);
                Assert.Contains("STARTTLS", answer.Detail);
                Assert.DoesNotContain(plain.Of("command"), e => Verb(e) == "MAIL");
            }
        }

        [DownstreamFact]
        public async Task A_bare_550_from_a_server_with_enhanced_codes_is_not_trusted()
        {
            var options = TwoUsers.Concat(new[] { "--enhanced-status-codes" }).ToArray();
            using var server = await DownstreamSmtpServer.StartAsync(options);
            var source = new CallaheadSource(Options(server));

            Assert.Equal(MailboxStatus.Unavailable, (await source.CheckAsync("plain5@example.test")).Status);
            Assert.Equal(MailboxStatus.Unknown, (await source.CheckAsync("carol@example.test")).Status);
        }

        [DownstreamFact]
        public async Task Probes_send_the_null_sender_never_DATA_and_QUIT_after_each()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers);
            var source = new CallaheadSource(Options(server));
            var addresses = new[] { "alice@example.test", "carol@example.test", "temp@example.test", "policy@example.test" };

            foreach (var address in addresses) await source.CheckAsync(address);

            await TestWait.UntilAsync(() => server.Of("closed").Count == addresses.Length, server.Describe());
            Assert.Empty(server.Messages);
            for (var session = 1; session <= addresses.Length; session++)
            {
                var verbs = Commands(server, session).Select(Verb).ToList();
                Assert.Equal(new[] { "EHLO", "MAIL", "RCPT", "QUIT" }, verbs);
                var commands = Commands(server, session);
                Assert.Equal("proxy.test", commands[0].GetProperty("arg").GetString());
                Assert.Equal("FROM:<>", commands[1].GetProperty("arg").GetString());
                Assert.Equal("TO:<" + addresses[session - 1] + ">", commands[2].GetProperty("arg").GetString());
            }
            Assert.DoesNotContain(server.Of("command"), e => Verb(e) == "DATA");
        }

        [DownstreamFact]
        public async Task A_refused_probe_sender_is_unavailable_not_unknown()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers);
            var options = Options(server);
            options.ProbeSender = "perm@proxy.test";   // the fixture refuses it with 553 5.7.1
            var source = new CallaheadSource(options);

            var answer = await source.CheckAsync("carol@example.test");

            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("MAIL FROM:<perm@proxy.test>", answer.Detail);
            Assert.Contains("553", answer.Detail);
            await TestWait.UntilAsync(() => server.Of("closed").Count == 1, server.Describe());
            Assert.DoesNotContain(Commands(server, 1), e => Verb(e) == "RCPT" || Verb(e) == "DATA");
        }

        [DownstreamFact]
        public async Task A_stopped_downstream_is_unavailable()
        {
            var server = await DownstreamSmtpServer.StartAsync(TwoUsers);
            var options = Options(server);
            server.Dispose();
            var source = new CallaheadSource(options);

            var answer = await source.CheckAsync("alice@example.test");

            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("connect to 127.0.0.1:" + options.Port + " failed", answer.Detail);
        }

        [DownstreamFact]
        public async Task A_downstream_that_does_not_answer_in_time_is_unavailable_within_the_timeout()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers.Concat(new[] { "--rcpt-delay", "30" }).ToArray());
            var options = Options(server);
            options.Timeout = TimeSpan.FromMilliseconds(700);
            var source = new CallaheadSource(options);
            var watch = Stopwatch.StartNew();

            var answer = await source.CheckAsync("alice@example.test");

            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("no answer to", answer.Detail);
            // The downstream holds RCPT for 30 s: ending well before that is the timeout's doing,
            // with room for a machine so busy that the pool runs the continuation late.
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), watch.Elapsed.ToString());
            Assert.Equal(0, source.ProbesInFlight);
        }

        [DownstreamFact]
        public async Task The_callers_cancellation_ends_the_probe_and_is_thrown()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers.Concat(new[] { "--rcpt-delay", "30" }).ToArray());
            var source = new CallaheadSource(Options(server));
            using var cts = new CancellationTokenSource();

            var check = source.CheckAsync("alice@example.test", cts.Token);
            await TestWait.UntilAsync(() => server.Of("command").Any(e => Verb(e) == "RCPT"), server.Describe());
            cts.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => check);
            await TestWait.UntilAsync(() => server.Of("closed").Count == 1, server.Describe());
        }

        [DownstreamFact]
        public async Task A_non_ascii_address_needs_SMTPUTF8_downstream()
        {
            using (var plain = await DownstreamSmtpServer.StartAsync(TwoUsers))
            {
                var answer = await new CallaheadSource(Options(plain)).CheckAsync("jörg@example.test");
                Assert.Equal(MailboxStatus.Unavailable, answer.Status);
                Assert.Contains("SMTPUTF8", answer.Detail);
            }
            using (var utf8 = await DownstreamSmtpServer.StartAsync(TwoUsers.Concat(new[] { "--smtputf8" }).ToArray()))
            {
                var answer = await new CallaheadSource(Options(utf8)).CheckAsync("jörg@example.test");
                Assert.Equal(MailboxStatus.Unknown, answer.Status);
                var mail = utf8.Of("command").First(e => Verb(e) == "MAIL");
                Assert.Equal("FROM:<> SMTPUTF8", mail.GetProperty("arg").GetString());
            }
        }

        [Theory]
        [InlineData("a\r\nDATA@example.test")]
        [InlineData("a\0@example.test")]
        [InlineData("")]
        public async Task A_mailbox_that_would_break_the_command_line_is_refused(string mailbox)
        {
            var source = new CallaheadSource(new CallaheadOptions { Host = "127.0.0.1", Port = 9 });
            await Assert.ThrowsAsync<ArgumentException>(() => source.CheckAsync(mailbox));
        }

        [Fact]
        public void The_ttls_are_read_from_the_options()
        {
            var source = new CallaheadSource(new CallaheadOptions { Host = "mx.example.test" });
            Assert.Equal(TimeSpan.FromDays(7), source.Options.PositiveTtl);
            Assert.Equal(TimeSpan.FromHours(3), source.Options.NegativeTtl);
            Assert.Equal("mx.example.test:25", source.Options.Target);
            Assert.Throws<ArgumentException>(() => new CallaheadSource(new CallaheadOptions { Host = "h", ProbeSender = "a b" }));
            Assert.Throws<ArgumentException>(() => new CallaheadSource(new CallaheadOptions { Host = "h", MaxConcurrentProbes = 0 }));
        }
    }
}
