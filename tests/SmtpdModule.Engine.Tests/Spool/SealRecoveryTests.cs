using System;
using System.IO;
using System.Linq;
using System.Text;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// A commit into a slot says 250 once its file is sealed and synced, before its rename into
    /// ready/ is durable: a crash may leave the message in incoming/, under its .tmp name or its
    /// slot's. Opening the spool must bring every such message into ready/ byte for byte, and
    /// nothing else: not a torn file, not one never sealed, not one being removed.
    /// </summary>
    public class SealRecoveryTests
    {
        static readonly byte[] Body = Encoding.ASCII.GetBytes("Subject: sealed\r\n\r\n" + string.Concat(Enumerable.Repeat("line of the body\r\n", 5000)));

        /// <summary>What a crash right after the commit's fsync leaves: the sealed, synced file in
        /// incoming/ under <paramref name="name"/> (null: its own .tmp name), not yet renamed.</summary>
        static (string Id, string Path, byte[] Bytes) SealedButNotRenamed(TempSpool spool, string name = null)
        {
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            message.Body.Write(Body, 0, 40);
            message.Body.Write(Body, 40, Body.Length - 40);
            message.SyncAndCloseBody();
            var path = message.TempPath;
            if (name != null)
            {
                var moved = Path.Combine(spool.Dir("incoming"), name);
                File.Move(path, moved);
                path = moved;
            }
            return (message.Id, path, File.ReadAllBytes(path));
        }

        static void MakeOld(string path) =>
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - SpoolWriter.OrphanAge - TimeSpan.FromMinutes(1));

        [Theory]
        [InlineData(null)]
        [InlineData("20261207T050000-aaaaaaaaaaaaaaaaaaaaaaaa.slot")]
        public void A_sealed_message_a_crash_left_in_incoming_is_in_ready_byte_for_byte_after_open(string name)
        {
            using var spool = new TempSpool();
            var (id, path, bytes) = SealedButNotRenamed(spool, name);

            SpoolWriter.Open(spool.Root);   // the restart: young or old, it is mail, not debris

            Assert.False(File.Exists(path));
            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(new[] { id + ".msg" }, spool.Files("ready"));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(spool.Dir("ready"), id + ".msg")));
            var listed = Assert.Single(SpoolReader.List(spool.Root));
            Assert.Equal(Body.Length, listed.Size);
        }

        [Fact]
        public void A_torn_sealed_file_is_not_recovered_and_goes_as_debris_once_old()
        {
            using var spool = new TempSpool();
            var (_, path, bytes) = SealedButNotRenamed(spool);
            // A block of the body that never reached the disk reads as zeros; the seal did.
            Array.Clear(bytes, 8192, 4096);
            File.WriteAllBytes(path, bytes);

            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("ready"));
            Assert.True(File.Exists(path), "young debris waits for a later sweep");

            MakeOld(path);
            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("ready"));
            Assert.Empty(spool.Files("incoming"));
        }

        [Fact]
        public void A_file_never_sealed_is_debris_even_when_complete()
        {
            using var spool = new TempSpool();
            var (_, path, bytes) = SealedButNotRenamed(spool);
            // All of it in the file, but the crash came before the seal went in.
            for (var i = 0; i < MessageSeal.ValueLength; i++) bytes[MessageSeal.Offset + i] = i == 16 ? (byte)' ' : (byte)'0';
            File.WriteAllBytes(path, bytes);
            Assert.StartsWith("smtpd-envelope 1\nseal: 0000000000000000 000000000000\nid: ", Encoding.ASCII.GetString(bytes, 0, 64));
            MakeOld(path);

            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("ready"));
            Assert.False(File.Exists(path));
        }

        [Fact]
        public void A_message_being_removed_is_never_brought_back()
        {
            using var spool = new TempSpool();
            var (id, path, _) = SealedButNotRenamed(spool, null);
            // Remove-SmtpdSpoolItem renames a message into incoming/ before deleting it; a crash between the two.
            File.Move(path, Path.Combine(spool.Dir("incoming"), id + ".removed"));

            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public void A_sealed_file_whose_message_is_already_queued_loses_its_incoming_name_only()
        {
            using var spool = new TempSpool();
            var (id, path, bytes) = SealedButNotRenamed(spool);
            // A rename done as link and unlink, cut between the two: both names survive.
            Directory.CreateDirectory(spool.Dir("deferred"));
            File.Copy(path, Path.Combine(spool.Dir("deferred"), id + ".msg"));

            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("ready"));
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(spool.Dir("deferred"), id + ".msg")));
        }

        [Fact]
        public void A_file_a_live_writer_holds_is_left_alone()
        {
            using var spool = new TempSpool();
            var (_, path, _) = SealedButNotRenamed(spool);
            using (new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None))
            {
                SpoolWriter.Open(spool.Root);
                Assert.Empty(spool.Files("ready"));
            }
            SpoolWriter.Open(spool.Root);
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public void The_seal_does_not_depend_on_how_the_bytes_were_cut_into_writes()
        {
            var whole = new MessageSeal();
            whole.Add(Body, 0, Body.Length);
            var pieces = new MessageSeal();
            var random = new Random(7);
            for (var at = 0; at < Body.Length;)
            {
                var n = Math.Min(random.Next(0, 20), Body.Length - at);
                if (n == 1) pieces.Add(Body[at]);
                else pieces.Add(Body, at, n);
                at += n;
            }
            Assert.Equal(whole.Finish(), pieces.Finish());

            var shorter = new MessageSeal();
            shorter.Add(Body, 0, Body.Length - 1);
            Assert.NotEqual(whole.Finish(), shorter.Finish());
        }

        [Fact]
        public void Slots_left_by_a_stopped_writer_are_taken_over_not_piled_up()
        {
            if (OperatingSystem.IsWindows()) return;   // write-through renames, no slots
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root).Dispose();   // a writer that stopped: its files closed
            Assert.Equal(IncomingSlots.Capacity, spool.Slots);
            using (var restarted = SpoolWriter.Open(spool.Root))
            {
                Assert.Equal(IncomingSlots.Capacity, spool.Slots);
                Assert.Equal(IncomingSlots.Capacity, restarted.Slots.Count);
            }
            Assert.Equal(IncomingSlots.Capacity, spool.Slots);
        }
    }
}
