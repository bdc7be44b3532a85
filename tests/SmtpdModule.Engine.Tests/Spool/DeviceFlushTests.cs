using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// A message written over a preallocated slot writes its data out and waits for a disk cache
    /// flush shared with the commits beside it; its commit (and so the 250) never returns before
    /// that flush has ended, and commits that overlap one flush share the next.
    /// </summary>
    public class DeviceFlushTests
    {
        static readonly byte[] Body = Encoding.ASCII.GetBytes("Subject: flush\r\n\r\n" + string.Concat(Enumerable.Repeat("a line of the body\r\n", 100)));
        static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

        static IncomingMessage Begin(SpoolWriter writer)
        {
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            message.Body.Write(Body, 0, Body.Length);
            return message;
        }

        static async Task Commit(SpoolWriter writer)
        {
            using var message = Begin(writer);
            await writer.CommitAsync(message);
        }

        // A writer whose slots are preallocated: one round of commits takes enough of the pool
        // that the refill makes slots as long as those messages.
        static async Task<SpoolWriter> WriterWithPreallocatedSlots(TempSpool spool)
        {
            var writer = SpoolWriter.Open(spool.Root);
            for (var i = 0; i < IncomingSlots.Capacity - IncomingSlots.LowWater + 1; i++) await Commit(writer);
            await writer.Slots.Refill;
            for (var i = 0; i < IncomingSlots.LowWater - 1; i++) await Commit(writer);   // the empty ones go first
            return writer;
        }

        [Fact]
        public async Task A_commit_returns_only_after_a_flush_that_began_once_its_sealed_file_was_written_out()
        {
            if (OperatingSystem.IsWindows()) return;   // write-through renames, no slots
            using var spool = new TempSpool();
            var writer = await WriterWithPreallocatedSlots(spool);
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var sealedAtFlush = false;
            IncomingMessage message = null;
            writer.DeviceFlush = new DeviceFlush(() =>
            {
                // The file is complete, sealed and cut to its length when the flush begins.
                using (var file = new FileStream(message.TempPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                    sealedAtFlush = MessageSeal.Holds(file, out var length) && length == file.Length;
                entered.Set();
                Assert.True(release.Wait(Deadline));
            });
            message = Begin(writer);
            Assert.True(message.CanShareDeviceFlush);

            var commit = Task.Run(() => writer.CommitAsync(message));
            Assert.True(entered.Wait(Deadline));
            Assert.True(sealedAtFlush);
            Assert.False(commit.IsCompleted);
            Assert.False(File.Exists(Path.Combine(spool.Dir("ready"), message.Id + ".msg")));

            release.Set();
            await commit.WaitAsync(Deadline);
            Assert.True(File.Exists(Path.Combine(spool.Dir("ready"), message.Id + ".msg")));
            Assert.Equal(1, writer.DeviceFlush.Flushes);
            using (var body = SpoolReader.OpenBody(spool.Root, message.Id)) Assert.Equal(Body, TempSpool.ReadAll(body));
        }

        [Fact]
        public async Task Commits_that_arrive_during_a_flush_share_the_next_one()
        {
            if (OperatingSystem.IsWindows()) return;
            using var spool = new TempSpool();
            var writer = await WriterWithPreallocatedSlots(spool);
            using var entered = new ManualResetEventSlim();
            using var release = new ManualResetEventSlim();
            var calls = 0;
            writer.DeviceFlush = new DeviceFlush(() =>
            {
                if (Interlocked.Increment(ref calls) > 1) return;
                entered.Set();
                Assert.True(release.Wait(Deadline));
            });
            var first = Task.Run(() => Commit(writer));
            Assert.True(entered.Wait(Deadline));

            const int joiners = 8;
            var rest = Enumerable.Range(0, joiners).Select(_ => Task.Run(() => Commit(writer))).ToArray();
            // Each has written its file out and asked for a flush once the requests are counted.
            Assert.True(SpinWait.SpinUntil(() => writer.DeviceFlush.Requests == 1 + joiners, Deadline));
            Assert.False(rest.Any(t => t.IsCompleted));

            release.Set();
            await Task.WhenAll(rest.Append(first)).WaitAsync(Deadline);
            Assert.Equal(2, calls);
            Assert.Equal(IncomingSlots.Capacity + 1 + joiners, spool.Files("ready").Length);
        }

        [Fact]
        public async Task A_failed_flush_fails_every_commit_waiting_for_it_and_leaves_nothing_behind()
        {
            if (OperatingSystem.IsWindows()) return;
            using var spool = new TempSpool();
            var writer = await WriterWithPreallocatedSlots(spool);
            var ready = spool.Files("ready").Length;
            writer.DeviceFlush = new DeviceFlush(() => throw new IOException("EIO from the disk"));
            using var message = Begin(writer);

            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message));
            Assert.Equal(SpoolErrorReason.Io, ex.Reason);
            Assert.Equal(message.Id, ex.Id);
            Assert.False(message.IsCommitted);
            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(ready, spool.Files("ready").Length);
            Assert.Equal(1, writer.Counters.Failures);
        }

        [Fact]
        public async Task A_message_longer_than_its_slot_syncs_its_own_file()
        {
            if (OperatingSystem.IsWindows()) return;
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);   // a fresh pool: its slots are empty
            var flushes = 0;
            writer.DeviceFlush = new DeviceFlush(() => Interlocked.Increment(ref flushes));
            using var message = Begin(writer);
            Assert.False(message.CanShareDeviceFlush);
            await writer.CommitAsync(message);
            Assert.Equal(0, flushes);
            Assert.True(File.Exists(Path.Combine(spool.Dir("ready"), message.Id + ".msg")));
        }

        [Fact]
        public void There_is_no_shared_flush_on_a_file_system_whose_sync_path_was_not_checked()
        {
            if (!OperatingSystem.IsLinux()) return;
            Assert.Null(DeviceFlush.For("/proc"));   // procfs: neither ext4 nor XFS
        }
    }
}
