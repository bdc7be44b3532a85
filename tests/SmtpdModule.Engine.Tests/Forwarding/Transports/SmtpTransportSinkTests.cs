using System;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>SmtpTransport against Postfix's smtp-sink: another server's reading of our
    /// envelope and data, and its canned refusals and hang-ups at chosen commands.</summary>
    public class SmtpTransportSinkTests
    {
        static SmtpTransport Transport(int port) => TestTransports.Smtp(port);

        [DownstreamFact]
        public async Task Smtp_sink_receives_the_envelope_and_the_bytes()
        {
            using var sink = await SmtpSinkServer.StartAsync();
            using var transport = Transport(sink.Port);
            var body = TestMessages.Awkward();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", EnvelopeBodyType.EightBitMime, false, "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
            var dump = Assert.Single(await sink.WaitForDumpsAsync(1));
            Assert.Equal("<a@example.org> BODY=8BITMIME", dump.MailArgs);   // smtp-sink offers no SIZE
            Assert.Equal(new[] { "<b@example.com>", "<c@example.com>" }, dump.RcptArgs);
            Assert.Equal("relay.example.net", dump.HeloArgs);
            // smtp-sink writes lines with LF; everything else must be what was spooled.
            Assert.Equal(TestMessages.WithLfLineEnds(body), dump.Content);
        }

        [DownstreamFact]
        public async Task The_null_sender_is_sent_as_empty_angle_brackets()
        {
            using var sink = await SmtpSinkServer.StartAsync();
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            Assert.StartsWith("<> ", Assert.Single(await sink.WaitForDumpsAsync(1)).MailArgs + " ");
        }

        [DownstreamFact]
        public async Task A_hard_refusal_of_MAIL_fails_everyone()
        {
            using var sink = await SmtpSinkServer.StartAsync("-f", "MAIL");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Failed, "5.3.0", "500 5.3.0 Error: command failed"), (r.Outcome, r.Status, r.Diagnostic)));
        }

        [DownstreamFact]
        public async Task A_soft_refusal_of_RCPT_defers_and_sends_no_data()
        {
            using var sink = await SmtpSinkServer.StartAsync("-r", "RCPT");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Deferred, "4.3.0", "450 4.3.0 Error: command failed"), (r.Outcome, r.Status, r.Diagnostic)));
            Assert.DoesNotContain(sink.Dumps(), d => d.Complete);
        }

        [DownstreamFact]
        public async Task A_hard_refusal_after_the_data_fails_the_accepted_recipients()
        {
            using var sink = await SmtpSinkServer.StartAsync("-f", ".");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Failed, "5.3.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
        }

        [DownstreamFact]
        public async Task A_hang_up_at_DATA_defers_with_4_4_2()
        {
            using var sink = await SmtpSinkServer.StartAsync("-q", "DATA");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.4.2", "x-local"), (result.Recipients[0].Outcome, result.Recipients[0].Status, result.Recipients[0].DiagnosticType));
            Assert.Equal(0, transport.IdleConnections);
        }

        [DownstreamFact]
        public async Task A_421_after_the_data_defers_and_drops_the_connection()
        {
            using var sink = await SmtpSinkServer.StartAsync("-Q", ".");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Deferred, result.Recipients[0].Outcome);
            Assert.StartsWith("421 ", result.Recipients[0].Diagnostic);
            Assert.Equal(0, transport.IdleConnections);
        }

        [DownstreamFact]
        public async Task A_refused_greeting_is_deferred_not_bounced()
        {
            using var sink = await SmtpSinkServer.StartAsync("-f", "CONNECT");
            using var transport = Transport(sink.Port);

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            var r = result.Recipients[0];
            Assert.Equal(DeliveryOutcome.Deferred, r.Outcome);
            Assert.StartsWith("4.", r.Status);
            Assert.StartsWith("5", r.Diagnostic);   // what the server said, kept for the DSN
            Assert.Equal("127.0.0.1", result.RemoteMta);
        }
    }
}
