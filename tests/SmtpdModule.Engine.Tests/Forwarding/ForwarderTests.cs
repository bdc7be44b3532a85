using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding
{
    /// <summary>The forwarder over a real spool and a real downstream server (aiosmtpd), whose
    /// replies depend on the recipient's local part (tests/fixtures/downstream/smtp_server.py).</summary>
    public class ForwarderTests
    {
        static async Task<string> Spool(SpoolWriter writer, string from, string subject, params string[] recipients)
        {
            var envelope = TempSpool.NewEnvelope(recipients.Select(r => "<" + r + ">").ToArray());
            envelope.From = "<" + from + ">";
            envelope.Received = DateTimeOffset.UtcNow;   // the queue lifetime counts from here
            var message = writer.BeginMessage(envelope);
            var bytes = Encoding.ASCII.GetBytes("From: " + (from.Length == 0 ? "MAILER-DAEMON@example.org" : from) + "\r\nSubject: " + subject + "\r\nMessage-Id: <" + subject + "@example.org>\r\n\r\nBody of " + subject + "\r\n");
            message.Body.Write(bytes, 0, bytes.Length);
            await writer.CommitAsync(message);
            return message.Id;
        }

        static ForwarderOptions Options(string spool, int port, Action<ForwarderOptions> configure = null)
        {
            var o = new ForwarderOptions
            {
                SpoolPath = spool,
                HostName = "relay.example.net",
                Transport = TestTransports.Smtp(port),
            };
            configure?.Invoke(o);
            return o;
        }

        static string[] Rcpts(JsonElement m) => m.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()).ToArray();
        static string Subject(DownstreamSmtpServer server, JsonElement m)
        {
            var text = Encoding.ASCII.GetString(server.Bytes(m));
            var line = text.Split("\r\n").First(l => l.StartsWith("Subject: ", StringComparison.Ordinal));
            return line.Substring("Subject: ".Length);
        }

        [DownstreamFact]
        public async Task Each_recipient_gets_its_own_fate_and_a_delivered_one_is_never_sent_again()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Spool(writer, "a@example.org", "mixed", "ok@example.com", "temp@example.com", "perm@example.com");

            var first = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port));

            Assert.Equal(1, first.Deferred);
            Assert.Equal(1, first.Bounced);
            var item = SpoolQueue.Open(spool.Root).Get(id);
            Assert.Equal(SpoolState.Deferred, item.State);
            Assert.Equal(new[] { RecipientStatus.Delivered, RecipientStatus.Pending, RecipientStatus.Failed }, item.Recipients.Select(r => r.Status));
            Assert.Equal("5.1.1", item.Recipients[2].StatusCode);
            Assert.StartsWith("450", item.Recipients[1].Diagnostic);
            Assert.InRange(item.NextAttempt.Value - item.LastAttempt.Value, TimeSpan.FromSeconds(59), TimeSpan.FromSeconds(61));
            Assert.Equal(1, first.Waiting);
            Assert.Equal(item.NextAttempt, first.NextDue);

            // The message once to ok@, and the bounce (found due in the same run) to the sender.
            var messages = await server.WaitForMessagesAsync(2);
            Assert.Equal(new[] { "ok@example.com" }, Rcpts(messages.Single(m => Subject(server, m) == "mixed")));
            var bounce = messages.Single(m => Subject(server, m) != "mixed");
            Assert.Equal(new[] { "a@example.org" }, Rcpts(bounce));
            Assert.Equal("<>", bounce.GetProperty("mail_from").GetString());   // aiosmtpd keeps the brackets of the null path
            Assert.Contains("perm@example.com", Encoding.UTF8.GetString(server.Bytes(bounce)));

            // Retry now: only the deferred recipient is tried.
            SpoolQueue.Open(spool.Root).Release(id);
            var second = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port));
            Assert.Equal(1, second.Deferred);
            Assert.Equal(2, server.Messages.Count);
            Assert.Equal(2, SpoolQueue.Open(spool.Root).Get(id).Attempts);

            // A run with nothing due is not a run over an empty spool: it says what waits and when (issue 12).
            var third = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port));
            Assert.Equal(0, third.Forwarded);
            Assert.Equal(0, third.Deferred);
            Assert.Equal(1, third.Waiting);
            Assert.Equal(SpoolQueue.Open(spool.Root).Get(id).NextAttempt, third.NextDue);
            Assert.Equal(2, server.Messages.Count);
        }

        [DownstreamFact]
        public async Task A_message_that_waited_too_long_fails_with_4_4_7_and_is_bounced()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            await Spool(writer, "a@example.org", "late", "temp@example.com");

            var summary = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port, o => o.Retry = new RetrySchedule(null, TimeSpan.Zero)));

            Assert.Equal(1, summary.Failed);
            Assert.Equal(1, summary.Bounced);
            Assert.Empty(SpoolQueue.Open(spool.Root).List());
            var bounce = (await server.WaitForMessagesAsync(1)).Single();
            var text = Encoding.UTF8.GetString(server.Bytes(bounce));
            Assert.Contains("Status: 4.4.7", text);
            Assert.Contains("temp@example.com", text);
        }

        [DownstreamFact]
        public async Task A_bounce_that_fails_is_kept_in_failed_and_so_is_everything_with_NoBounce()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            var nullSender = await Spool(writer, "", "bounce", "perm@example.com");
            var normal = await Spool(writer, "a@example.org", "kept", "perm@example.com");

            var summary = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port, o => o.NoBounce = true));

            Assert.Equal(2, summary.Failed);
            Assert.Equal(0, summary.Bounced);
            var failed = SpoolQueue.Open(spool.Root).List(new[] { SpoolState.Failed }).Select(i => i.Id).ToArray();
            Assert.Equal(new[] { nullSender, normal }.OrderBy(x => x, StringComparer.Ordinal), failed);
            Assert.Empty(server.Messages);
        }

        [Fact]
        public async Task Nobody_listening_defers_with_back_off_and_keeps_every_recipient_pending()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Spool(writer, "a@example.org", "nobody", "b@example.com");
            var port = FreePort();

            var summary = await Forwarder.RunOnceAsync(Options(spool.Root, port, o => o.Retry = new RetrySchedule(new[] { TimeSpan.FromMinutes(7) })));

            Assert.Equal(1, summary.Deferred);
            var item = SpoolQueue.Open(spool.Root).Get(id);
            Assert.Equal(SpoolState.Deferred, item.State);
            Assert.Equal(RecipientStatus.Pending, item.Recipients[0].Status);
            Assert.StartsWith("4.", item.Recipients[0].StatusCode);
            Assert.InRange(item.NextAttempt.Value - item.LastAttempt.Value, TimeSpan.FromMinutes(6.9), TimeSpan.FromMinutes(7.1));

            // Not due: a second run leaves it alone.
            var again = await Forwarder.RunOnceAsync(Options(spool.Root, port));
            Assert.Equal(0, again.Deferred + again.Forwarded + again.Failed);
            Assert.Equal(1, SpoolQueue.Open(spool.Root).Get(id).Attempts);
        }

        [DownstreamFact]
        public async Task Two_forwarders_on_one_spool_deliver_each_of_1000_messages_once()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            const int count = 1000;
            for (var i = 0; i < count; i++) await Spool(writer, "a@example.org", "m" + i, "b@example.com");

            var one = Forwarder.Start(Options(spool.Root, server.Port, o => o.MaxConcurrency = 4));
            var two = Forwarder.Start(Options(spool.Root, server.Port, o => o.MaxConcurrency = 4));
            try
            {
                await TestWait.UntilAsync(() => server.Messages.Count >= count, "fewer than " + count + " messages arrived", 90000);
                await TestWait.UntilAsync(() => !SpoolQueue.Open(spool.Root).List().Any(), "spool not empty", 60000);
            }
            finally
            {
                await one.StopAsync();
                await two.StopAsync();
            }

            var subjects = server.Messages.Select(m => Subject(server, m)).ToList();
            Assert.Equal(count, subjects.Count);
            Assert.Equal(count, subjects.Distinct().Count());
            Assert.True(one.Forwarded > 0 && two.Forwarded > 0, "both forwarders took part: " + one.Forwarded + " / " + two.Forwarded);
            Assert.Equal(count, one.Forwarded + two.Forwarded);
            Assert.Empty(Directory.GetDirectories(Path.Combine(spool.Root, "active")));
        }

        [DownstreamFact]
        public async Task A_daemon_notices_new_mail_without_waiting_for_the_poll()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartAsync();
            var writer = SpoolWriter.Open(spool.Root);
            var forwarder = Forwarder.Start(Options(spool.Root, server.Port, o => o.PollInterval = TimeSpan.FromMinutes(10)));
            try
            {
                await Spool(writer, "a@example.org", "watched", "b@example.com");
                await server.WaitForMessagesAsync(1);
                await TestWait.UntilAsync(() => forwarder.Forwarded == 1, "not counted");
            }
            finally
            {
                await forwarder.StopAsync();
            }
            Assert.False(forwarder.IsRunning);
        }

        static int FreePort()
        {
            var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            return port;
        }
    }
}
