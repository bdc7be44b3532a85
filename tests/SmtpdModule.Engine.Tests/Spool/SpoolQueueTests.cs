using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolQueueTests
    {
        static Task<string> Commit(SpoolWriter writer, string body = "Subject: t\r\n\r\nbody\r\n") =>
            TempSpool.CommitAsync(writer, body, "<b@example.com>", "<c@example.com>");

        [Fact]
        public async Task Hold_and_release_move_the_message_and_releasing_a_failed_one_retries_its_failed_recipients()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            var queue = SpoolQueue.Open(spool.Root);

            Assert.Equal(SpoolState.Held, queue.Hold(id).State);
            Assert.Equal(SpoolState.Held, queue.Hold(id).State);   // again: nothing changes

            var status = new DeliveryStatus { Attempts = 3, NextAttempt = DateTimeOffset.UtcNow.AddHours(1) };
            status.For(0).Status = RecipientStatus.Delivered;
            status.For(1).Status = RecipientStatus.Failed;
            DeliveryStatusFile.Write(spool.Root, id, status);
            File.Move(Path.Combine(spool.Root, "held", id + ".msg"), Path.Combine(spool.Root, "failed", id + ".msg"));
            var released = queue.Release(id);

            Assert.Equal(SpoolState.Ready, released.State);
            Assert.Null(released.NextAttempt);
            Assert.Equal(RecipientStatus.Delivered, released.Recipients[0].Status);
            Assert.Equal(RecipientStatus.Pending, released.Recipients[1].Status);
            Assert.NotNull(DeliveryStatusFile.Read(spool.Root, id).Released);
        }

        [Fact]
        public async Task A_message_being_delivered_is_busy_for_hold_release_and_remove()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            var queue = SpoolQueue.Open(spool.Root);
            using var lease = SpoolLease.Acquire(spool.Root);
            lease.TryClaim(SpoolState.Ready, id);

            Assert.Equal(SpoolErrorReason.Busy, Assert.Throws<SpoolException>(() => queue.Hold(id)).Reason);
            Assert.Equal(SpoolErrorReason.Busy, Assert.Throws<SpoolException>(() => queue.Release(id)).Reason);
            Assert.Equal(SpoolErrorReason.Busy, Assert.Throws<SpoolException>(() => queue.Remove(id)).Reason);
        }

        [Fact]
        public async Task Remove_deletes_message_and_record_and_unknown_ids_are_not_found()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer);
            var queue = SpoolQueue.Open(spool.Root);
            DeliveryStatusFile.Write(spool.Root, id, new DeliveryStatus { Attempts = 1 });

            queue.Remove(id);
            Assert.Empty(queue.List());
            Assert.Empty(spool.Files("status"));
            Assert.Empty(spool.Files("incoming"));
            foreach (var bad in new[] { id, "../x", "nul", id.ToUpperInvariant() })
                Assert.Equal(SpoolErrorReason.NotFound, Assert.Throws<SpoolException>(() => queue.Remove(bad)).Reason);
        }

        [Fact]
        public async Task List_reads_every_state_with_records_and_open_message_gives_the_spooled_bytes()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var ready = await Commit(writer, "Subject: one\r\n\r\n.dot\r\n");
            var held = await Commit(writer);
            var queue = SpoolQueue.Open(spool.Root);
            queue.Hold(held);

            var items = queue.List().ToList();
            Assert.Equal(new[] { ready, held }, items.Select(i => i.Id));
            Assert.Equal(new[] { SpoolState.Ready, SpoolState.Held }, items.Select(i => i.State));
            Assert.Equal("a@example.org", items[0].Sender);
            Assert.Equal(new[] { "b@example.com", "c@example.com" }, items[0].Recipients.Select(r => r.Address));
            Assert.Equal(new[] { held }, queue.List(new[] { SpoolState.Held }).Select(i => i.Id));

            using var body = queue.OpenMessage(ready);
            using var copy = new MemoryStream();
            body.CopyTo(copy);
            Assert.Equal("Subject: one\r\n\r\n.dot\r\n", Encoding.ASCII.GetString(copy.ToArray()));
            Assert.Equal(new[] { held }, queue.Ids(held.Substring(0, 30)).Where(i => i == held));
        }

        [Fact]
        public void Open_of_a_directory_without_a_spool_is_not_found()
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Root);
            Assert.Equal(SpoolErrorReason.NotFound, Assert.Throws<SpoolException>(() => SpoolQueue.Open(spool.Root)).Reason);
        }
    }
}
