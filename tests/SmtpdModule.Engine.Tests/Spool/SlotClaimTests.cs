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
    /// A writer holds its free slots open and claimed with <c>flock</c>, so taking one costs no
    /// system call, and no other writer, in this process or another, can take the same slot.
    /// </summary>
    public class SlotClaimTests
    {
        static readonly byte[] Body = Encoding.ASCII.GetBytes("Subject: claim\r\n\r\nbody\r\n");

        static Task<IncomingMessage> Commit(SpoolWriter writer) => TempSpool.CommitAsync(writer, Body);

        [Fact]
        public async Task Two_live_writers_on_one_spool_never_share_a_slot()
        {
            if (OperatingSystem.IsWindows()) return;   // write-through renames, no slots
            using var spool = new TempSpool();
            using var first = SpoolWriter.Open(spool.Root);
            using var second = SpoolWriter.Open(spool.Root);   // finds only slots the first holds

            Assert.Equal(IncomingSlots.Capacity, first.Slots.Count);
            Assert.Equal(IncomingSlots.Capacity, second.Slots.Count);
            Assert.Equal(2 * IncomingSlots.Capacity, spool.Slots);

            var a = first.BeginMessage(TempSpool.NewEnvelope());
            var b = second.BeginMessage(TempSpool.NewEnvelope());
            Assert.NotEqual(a.TempPath, b.TempPath);
            Assert.EndsWith(IncomingSlots.Extension, a.TempPath);
            foreach (var message in new[] { a, b })
            {
                await message.Body.WriteAsync(Body, 0, Body.Length);
                await message.Writer.CommitAsync(message);
            }
            Assert.Equal(new[] { a.Id, b.Id }.OrderBy(id => id, StringComparer.Ordinal).Select(id => id + ".msg"), spool.Files("ready"));
            Assert.Empty(spool.Files("incoming"));
        }

        [Fact]
        public async Task The_claims_are_flocks_another_program_sees_that_readers_pass_and_Dispose_gives_back()
        {
            if (OperatingSystem.IsWindows()) return;
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var inFlight = writer.BeginMessage(TempSpool.NewEnvelope());   // its slot stays claimed after Dispose
            var slots = Directory.GetFiles(spool.Dir("incoming"), "*" + IncomingSlots.Extension);
            Assert.Equal(IncomingSlots.Capacity, slots.Length);

            Assert.Equal(slots.Length, await FlockProbe.CountLocked(slots));
            // Held shared once claimed: a plain reader, such as a copy of the spool, still reads them.
            foreach (var slot in slots) Assert.Equal(new FileInfo(slot).Length, File.ReadAllBytes(slot).Length);
            writer.Dispose();
            writer.Dispose();   // idempotent
            Assert.Equal(1, await FlockProbe.CountLocked(slots));   // the message's, until its commit

            await inFlight.Body.WriteAsync(Body, 0, Body.Length);
            await writer.CommitAsync(inFlight);                 // begun before Dispose: still commits
            Assert.Equal(new[] { inFlight.Id + ".msg" }, spool.Files("ready"));
            using var after = writer.BeginMessage(TempSpool.NewEnvelope());   // no pool: a file of its own
            Assert.Equal(after.Id + SpoolLayout.TemporaryExtension, Path.GetFileName(after.TempPath));
        }

        [Fact]
        public async Task A_slot_another_program_holds_is_not_taken_even_when_free()
        {
            if (OperatingSystem.IsWindows()) return;
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root).Dispose();
            var held = Directory.GetFiles(spool.Dir("incoming"), "*" + IncomingSlots.Extension).First();
            using var holder = FlockProbe.Hold(held);
            await holder.Ready;

            using var writer = SpoolWriter.Open(spool.Root);   // takes the other free ones, makes one
            Assert.Equal(IncomingSlots.Capacity, writer.Slots.Count);
            Assert.Equal(IncomingSlots.Capacity + 1, Directory.GetFiles(spool.Dir("incoming"), "*" + IncomingSlots.Extension).Length);
            for (var i = 0; i < IncomingSlots.Capacity; i++)
                Assert.NotEqual(held, (await Commit(writer)).TempPath);
        }
    }
}
