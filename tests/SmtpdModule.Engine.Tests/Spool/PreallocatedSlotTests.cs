using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// Refilled slots are preallocated (zeros, synced) so that a message written over one needs a
    /// data sync only; the message is then cut to its length. A crash may undo the cut: the seal
    /// states the length, and the reader and the recovery stop there.
    /// </summary>
    public class PreallocatedSlotTests
    {
        static readonly byte[] Body = Encoding.ASCII.GetBytes("Subject: slot\r\n\r\n" + string.Concat(Enumerable.Repeat("a line of the body\r\n", 250)));

        static Task<IncomingMessage> Commit(SpoolWriter writer) => TempSpool.CommitAsync(writer, Body);

        [Fact]
        public async Task Refilled_slots_are_as_long_as_recent_messages_and_a_message_written_over_one_is_cut_to_its_length()
        {
            if (OperatingSystem.IsWindows()) return;   // write-through renames, no slots
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = await Commit(writer);
            var fileLength = message.HeaderLength + Body.Length;
            // One below the low-water mark: the refill preallocates as many as were taken.
            const int taken = IncomingSlots.Capacity - IncomingSlots.LowWater + 1, left = IncomingSlots.LowWater - 1;
            for (var i = 1; i < taken; i++) await Commit(writer);
            await writer.Slots.Refill;

            var slots = Directory.GetFiles(spool.Dir("incoming"), "*.slot");
            Assert.Equal(IncomingSlots.Capacity, slots.Length);
            Assert.All(slots, s => Assert.True(TempSpool.IsFreeSlot(s), s));
            var expected = (fileLength + 4095) / 4096 * 4096;
            Assert.Equal(left, slots.Count(s => new FileInfo(s).Length == 0));
            Assert.Equal(taken, slots.Count(s => new FileInfo(s).Length == expected));

            // The empty slots go first (first in, first out), then a preallocated one.
            for (var i = 0; i < left; i++) await Commit(writer);
            var preallocatedBefore = Directory.GetFiles(spool.Dir("incoming"), "*.slot").Count(s => new FileInfo(s).Length == expected);
            var over = await Commit(writer);
            Assert.Equal(preallocatedBefore - 1, Directory.GetFiles(spool.Dir("incoming"), "*.slot").Count(s => new FileInfo(s).Length == expected));

            var path = Path.Combine(spool.Dir("ready"), over.Id + ".msg");
            Assert.Equal(fileLength, new FileInfo(path).Length);
            Assert.Equal(Body.Length, over.Envelope.Size);
            using (var body = SpoolReader.OpenBody(spool.Root, over.Id)) Assert.Equal(Body, TempSpool.ReadAll(body));
            using (var file = File.OpenRead(path))
            {
                Assert.True(MessageSeal.Holds(file));
                Assert.Equal(fileLength, MessageSeal.StatedLength(file));
            }
        }

        /// <summary>A sealed message file with a slot's zeros after it, as a crash that undid the cut leaves it.</summary>
        static (string Id, byte[] Bytes, byte[] Padded) SealedAndPadded(TempSpool spool)
        {
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, _ => { }, slots: false);
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            message.Body.Write(Body, 0, Body.Length);
            message.SyncAndCloseBody();
            var bytes = File.ReadAllBytes(message.TempPath);
            File.Delete(message.TempPath);
            var padded = new byte[16384];
            Buffer.BlockCopy(bytes, 0, padded, 0, bytes.Length);
            return (message.Id, bytes, padded);
        }

        [Fact]
        public void Recovery_cuts_a_slots_zeros_a_crash_kept_after_a_sealed_message()
        {
            using var spool = new TempSpool();
            var (id, bytes, padded) = SealedAndPadded(spool);
            var slot = Path.Combine(spool.Dir("incoming"), "20261207T100000-bbbbbbbbbbbbbbbbbbbbbbbb.slot");
            File.WriteAllBytes(slot, padded);

            SpoolWriter.Open(spool.Root);

            Assert.False(File.Exists(slot));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(spool.Dir("ready"), id + ".msg")));
        }

        [Fact]
        public void A_queued_file_with_zeros_after_its_message_reads_as_the_message_only()
        {
            using var spool = new TempSpool();
            var (id, _, padded) = SealedAndPadded(spool);
            File.WriteAllBytes(Path.Combine(spool.Dir("ready"), id + ".msg"), padded);

            var listed = Assert.Single(SpoolReader.List(spool.Root));
            Assert.Equal(Body.Length, listed.Size);
            using var body = SpoolReader.OpenBody(spool.Root, id);
            Assert.Equal(Body.Length, body.Length);
            Assert.Equal(Body, TempSpool.ReadAll(body));
        }

        [Fact]
        public void A_seal_holds_only_over_the_length_it_states()
        {
            using var spool = new TempSpool();
            var (_, bytes, padded) = SealedAndPadded(spool);
            using (var whole = new MemoryStream(padded)) Assert.True(MessageSeal.Holds(whole));
            using (var cut = new MemoryStream(bytes, 0, bytes.Length - 1)) Assert.False(MessageSeal.Holds(cut));
            // A byte changed inside the stated length breaks it; one after it does not matter.
            var inside = (byte[])padded.Clone();
            inside[bytes.Length - 1] ^= 1;
            using (var broken = new MemoryStream(inside)) Assert.False(MessageSeal.Holds(broken));
            var after = (byte[])padded.Clone();
            after[bytes.Length] = 1;
            using (var trailing = new MemoryStream(after)) Assert.True(MessageSeal.Holds(trailing));
        }

        [Fact]
        public void The_debris_sweep_leaves_free_slots_whether_empty_or_preallocated_and_removes_old_torn_ones()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, _ => { }, slots: false);
            var empty = Path.Combine(spool.Dir("incoming"), "20261207T100000-cccccccccccccccccccccccc.slot");
            var zeros = Path.Combine(spool.Dir("incoming"), "20261207T100000-dddddddddddddddddddddddd.slot");
            var torn = Path.Combine(spool.Dir("incoming"), "20261207T100000-eeeeeeeeeeeeeeeeeeeeeeee.slot");
            File.WriteAllBytes(empty, new byte[0]);
            File.WriteAllBytes(zeros, new byte[8192]);
            File.WriteAllBytes(torn, Encoding.ASCII.GetBytes("smtpd-envelope 1\nseal: 0000"));
            var old = DateTime.UtcNow - SpoolWriter.OrphanAge - TimeSpan.FromMinutes(1);
            foreach (var path in new[] { empty, zeros, torn }) File.SetLastWriteTimeUtc(path, old);

            SpoolCleanup.RemoveIncomingDebris(spool.Root, SpoolWriter.OrphanAge, DateTime.UtcNow);

            Assert.True(File.Exists(empty));
            Assert.True(File.Exists(zeros));
            Assert.False(File.Exists(torn));
        }
    }
}
