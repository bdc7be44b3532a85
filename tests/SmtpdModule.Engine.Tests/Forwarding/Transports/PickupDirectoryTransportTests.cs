using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    public sealed class PickupDirectoryTransportTests : IDisposable
    {
        readonly string _root = Path.Combine(Path.GetTempPath(), "smtpd-pickup-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
        }

        static byte[] Concat(string head, byte[] body) => Encoding.ASCII.GetBytes(head).Concat(body).ToArray();

        [Fact]
        public async Task Writes_the_replay_envelope_then_the_bytes_unchanged_into_a_new_directory()
        {
            var directory = Path.Combine(_root, "missing", "pickup");
            using var transport = new PickupDirectoryTransport(directory);
            var body = TestMessages.Awkward();
            var message = TestMessages.Create(body, "a@example.org", "b@example.com", "c@example.com");

            var result = await transport.DeliverAsync(message);

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Delivered, "2.0.0"), (r.Outcome, r.Status)));
            Assert.Equal(new[] { message.Id + ".eml" }, Directory.GetFiles(directory).Select(Path.GetFileName));
            var expected = Concat("X-Sender: <a@example.org>\r\nX-Receiver: <b@example.com>\r\nX-Receiver: <c@example.com>\r\n", body);
            Assert.Equal(expected, File.ReadAllBytes(transport.PathFor(message.Id)));
            Assert.Equal("pickup:" + Path.GetFullPath(directory), transport.Target);
        }

        [Fact]
        public async Task Lone_CRs_and_LFs_in_the_spool_are_written_as_CRLF()
        {
            // An older version stored them; the pickup service sends the file on over SMTP.
            using var transport = new PickupDirectoryTransport(_root);
            var body = Encoding.ASCII.GetBytes("Subject: old\r\n\r\na\n.\nMAIL FROM:<x@y>\r.\rb\r\n");
            var message = TestMessages.Create(body, "a@example.org", "b@example.com");

            await transport.DeliverAsync(message);

            Assert.Equal(Concat("X-Sender: <a@example.org>\r\nX-Receiver: <b@example.com>\r\n",
                                Encoding.ASCII.GetBytes("Subject: old\r\n\r\na\r\n.\r\nMAIL FROM:<x@y>\r\n.\r\nb\r\n")),
                         File.ReadAllBytes(transport.PathFor(message.Id)));
        }

        [Fact]
        public async Task The_null_sender_is_written_as_empty_brackets()
        {
            using var transport = new PickupDirectoryTransport(_root);
            var body = TestMessages.Simple();
            var message = TestMessages.Create(body, "", "b@example.com");

            await transport.DeliverAsync(message);

            Assert.Equal(Concat("X-Sender: <>\r\nX-Receiver: <b@example.com>\r\n", body), File.ReadAllBytes(transport.PathFor(message.Id)));
        }

        [Fact]
        public async Task A_retry_replaces_the_file_of_the_same_id_and_leaves_no_temporary_files()
        {
            using var transport = new PickupDirectoryTransport(_root);
            var first = TestMessages.Create(TestMessages.Simple("first"), "a@example.org", "b@example.com");
            var again = new OutgoingMessage(first.Envelope, first.Recipients, () => new MemoryStream(TestMessages.Simple("again")));
            Directory.CreateDirectory(_root);
            File.WriteAllText(Path.Combine(_root, first.Id + ".0123.partial"), "left by a crash");

            await transport.DeliverAsync(first);
            var result = await transport.DeliverAsync(again);

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            Assert.Equal(new[] { first.Id + ".eml" }, Directory.GetFiles(_root).Select(Path.GetFileName));
            Assert.EndsWith("Subject: again\r\n\r\nHello.\r\n", File.ReadAllText(transport.PathFor(first.Id)));
        }

        [Fact]
        public async Task An_unwritable_target_defers_and_leaves_nothing_behind()
        {
            Directory.CreateDirectory(_root);
            var blocker = Path.Combine(_root, "a-file");
            File.WriteAllText(blocker, "not a directory");
            using var transport = new PickupDirectoryTransport(Path.Combine(blocker, "pickup"));

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0", "x-local"), (result.Recipients[0].Outcome, result.Recipients[0].Status, result.Recipients[0].DiagnosticType));
            Assert.Equal(new[] { "a-file" }, Directory.GetFiles(_root).Select(Path.GetFileName));
        }

        [Fact]
        public async Task An_unreadable_spool_file_defers_and_leaves_no_partial_file()
        {
            using var transport = new PickupDirectoryTransport(_root);
            var good = TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com");
            var broken = new OutgoingMessage(good.Envelope, good.Recipients, () => throw new IOException("disk on fire"));

            var result = await transport.DeliverAsync(broken);

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Empty(Directory.GetFiles(_root));
        }

        [Fact]
        public async Task Cancellation_throws_and_null_is_refused()
        {
            using var transport = new PickupDirectoryTransport(_root);
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"), cancelled.Token));
            await Assert.ThrowsAsync<ArgumentNullException>(() => transport.DeliverAsync(null));
        }
    }
}
