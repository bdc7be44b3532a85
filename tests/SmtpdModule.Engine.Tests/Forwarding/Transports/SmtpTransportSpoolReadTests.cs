using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>How SmtpTransport reads a spooled message: once per attempt, and always let go of,
    /// whether the next hop took the data or refused the transaction before it.</summary>
    public class SmtpTransportSpoolReadTests
    {
        /// <summary>A message whose bytes count their openings and closings.</summary>
        sealed class CountedBody
        {
            readonly byte[] _bytes;
            int _opened, _closed;

            public CountedBody(byte[] bytes) => _bytes = bytes;

            public int Opened => Volatile.Read(ref _opened);
            public int Closed => Volatile.Read(ref _closed);

            public OutgoingMessage Message(string from, params string[] recipients)
            {
                var template = TestMessages.Create(_bytes, from, recipients);
                return new OutgoingMessage(template.Envelope, template.Recipients, Open);
            }

            Stream Open()
            {
                Interlocked.Increment(ref _opened);
                return new ClosingStream(_bytes, () => Interlocked.Increment(ref _closed));
            }
        }

        sealed class ClosingStream : MemoryStream
        {
            readonly Action _closed;
            bool _done;

            public ClosingStream(byte[] bytes, Action closed) : base(bytes, writable: false) => _closed = closed;

            protected override void Dispose(bool disposing)
            {
                if (disposing && !_done)
                {
                    _done = true;
                    _closed();
                }
                base.Dispose(disposing);
            }
        }

        static SmtpTransport Transport(int port) => TestTransports.Smtp(port);

        [DownstreamFact]
        public async Task A_delivered_message_is_read_through_one_opening_and_closed()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var bytes = TestMessages.Simple();
            var body = new CountedBody(bytes);

            var result = await transport.DeliverAsync(body.Message("a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, Assert.Single(result.Recipients).Outcome);
            Assert.Equal(bytes, server.Bytes(Assert.Single(await server.WaitForMessagesAsync(1))));
            Assert.Equal((1, 1), (body.Opened, body.Closed));
        }

        [Fact]
        public void A_message_written_twice_gives_the_same_bytes_the_second_time()
        {
            // MailKit writes a message twice when it measures it first (BDAT needs the size).
            var bytes = TestMessages.Awkward();
            var body = new CountedBody(bytes);
            var (mime, format) = RawSpoolMessage.Create(body.Message("a@example.org", "b@example.com"), eightBit: true, international: false);
            format.NewLineFormat = NewLineFormat.Dos;   // as MailKit writes for SMTP
            var first = new MemoryStream();
            var second = new MemoryStream();

            using (mime)
            {
                mime.WriteTo(format, first);
                mime.WriteTo(format, second);
            }

            Assert.Equal(first.ToArray(), second.ToArray());
            Assert.Equal(bytes, first.ToArray());
            Assert.Equal((2, 2), (body.Opened, body.Closed));
        }

        [DownstreamFact]
        public async Task A_message_refused_before_its_data_is_closed_all_the_same()
        {
            using var server = await DownstreamSmtpServer.StartAsync();
            using var transport = Transport(server.Port);
            var sender = new CountedBody(TestMessages.Simple());
            var recipients = new CountedBody(TestMessages.Simple());

            var refusedSender = await transport.DeliverAsync(sender.Message("perm@example.org", "b@example.com"));
            var refusedRecipient = await transport.DeliverAsync(recipients.Message("a@example.org", "perm@example.com"));

            Assert.Equal(DeliveryOutcome.Failed, Assert.Single(refusedSender.Recipients).Outcome);
            Assert.Equal(DeliveryOutcome.Failed, Assert.Single(refusedRecipient.Recipients).Outcome);
            Assert.Empty(server.Messages);
            Assert.Equal((1, 1), (sender.Opened, sender.Closed));
            Assert.Equal((1, 1), (recipients.Opened, recipients.Closed));
        }
    }
}
