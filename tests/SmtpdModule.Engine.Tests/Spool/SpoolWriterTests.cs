using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolWriterTests
    {
        static readonly byte[] Message = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n");

        static async Task<string> CommitOne(SpoolWriter writer, byte[] bytes = null, Envelope envelope = null)
        {
            using var message = writer.BeginMessage(envelope ?? TempSpool.NewEnvelope());
            var data = bytes ?? Message;
            await message.Body.WriteAsync(data, 0, data.Length);
            await writer.CommitAsync(message);
            Assert.True(message.IsCommitted);
            return message.Id;
        }

        static byte[] ReadBody(string root, string id)
        {
            using var body = SpoolReader.OpenBody(root, id);
            using var copy = new MemoryStream();
            body.CopyTo(copy);
            return copy.ToArray();
        }

        [Fact]
        public void Open_creates_the_whole_layout()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            Assert.Equal(Path.GetFullPath(spool.Root), writer.Root);
            Assert.Equal(
                new[] { "active", "corrupt", "deferred", "failed", "held", "incoming", "ready", "status" },
                Directory.GetDirectories(spool.Root).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal));
            Assert.Equal(new[] { "ready", "active", "deferred", "held", "failed" }, SpoolLayout.States);
        }

        [Fact]
        public async Task Commit_makes_one_file_in_ready_header_then_body_and_leaves_nothing_in_incoming()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await CommitOne(writer);

            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(new[] { id + ".msg" }, spool.Files("ready"));
            var file = File.ReadAllBytes(Path.Combine(spool.Dir("ready"), id + ".msg"));
            var header = Encoding.UTF8.GetString(file, 0, file.Length - Message.Length);
            Assert.Matches("^smtpd-envelope 1\nseal: [0-9a-f]{16} [0-9]{12}\nid: " + id + "\n", header);
            Assert.EndsWith("\nsmtputf8: false\n\n", header);
            Assert.DoesNotContain("size:", header);
            Assert.Equal(Message, file.Skip(file.Length - Message.Length).ToArray());

            var listed = Assert.Single(SpoolReader.List(spool.Root));
            Assert.Equal(id, listed.Id);
            Assert.Equal(Message.Length, listed.Size);
            Assert.Equal("<b@example.com>", listed.Recipients.Single().Address);
            Assert.Equal(Message, ReadBody(spool.Root, id));
            Assert.Equal(1, writer.Counters.Commits);
        }

        [Fact]
        public async Task Begin_fills_in_the_id_and_commit_the_size_of_the_body()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var envelope = TempSpool.NewEnvelope();
            envelope.Size = 999999;
            var big = new byte[200_000];   // more than the 64 KiB buffer
            new Random(1).NextBytes(big);
            var id = await CommitOne(writer, big, envelope);
            Assert.Equal(id, envelope.Id);
            Assert.Equal(big.Length, envelope.Size);
            Assert.Equal(big, ReadBody(spool.Root, id));
            Assert.Equal(big.Length, SpoolReader.Read(spool.Root, SpoolLayout.Ready, id).Size);
        }

        [Fact]
        public async Task The_header_is_written_at_begin_and_later_changes_to_the_envelope_are_not_stored()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var envelope = TempSpool.NewEnvelope();
            using var message = writer.BeginMessage(envelope);
            Assert.Same(envelope, message.Envelope);
            envelope.From = "<changed@example.org>";
            envelope.Recipients.Add(new EnvelopeRecipient("<late@example.com>"));
            await message.Body.WriteAsync(Message, 0, Message.Length);
            await writer.CommitAsync(message);

            var stored = SpoolReader.Read(spool.Root, SpoolLayout.Ready, message.Id);
            Assert.Equal("<a@example.org>", stored.From);
            Assert.Equal("<b@example.com>", Assert.Single(stored.Recipients).Address);
        }

        [Fact]
        public async Task The_body_stream_is_write_only_forward_only_and_counts_body_bytes()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            var body = message.Body;
            Assert.True(body.CanWrite);
            Assert.False(body.CanRead);
            Assert.False(body.CanSeek);
            Assert.Equal(0, body.Position);   // the header is not the caller's
            Assert.Throws<NotSupportedException>(() => body.Seek(0, SeekOrigin.Begin));
            Assert.Throws<NotSupportedException>(() => body.Position = 0);
            var write = body.WriteAsync(Message, 0, Message.Length);
            Assert.True(write.IsCompletedSuccessfully, "a write to the page cache does not hop threads");
            await write;
            body.WriteByte((byte)'!');
            Assert.Equal(Message.Length + 1, body.Position);
            await writer.CommitAsync(message);
            Assert.Equal(Message.Concat(new[] { (byte)'!' }), ReadBody(spool.Root, message.Id));
        }

        [Fact]
        public async Task An_empty_body_is_a_message_of_size_zero()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await CommitOne(writer, new byte[0]);
            Assert.Equal(0, SpoolReader.Read(spool.Root, SpoolLayout.Ready, id).Size);
            Assert.Empty(ReadBody(spool.Root, id));
        }

        [Fact]
        public async Task A_body_closed_by_the_caller_is_still_synced_and_committed()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var envelope = TempSpool.NewEnvelope();
            using var message = writer.BeginMessage(envelope);
            message.Body.Write(Message, 0, Message.Length);
            message.Body.Dispose();
            await writer.CommitAsync(message);
            Assert.Equal(Message, ReadBody(spool.Root, message.Id));
            Assert.Equal(Message.Length, envelope.Size);
            Assert.Equal(Message.Length, SpoolReader.Read(spool.Root, "ready", message.Id).Size);
        }

        [Fact]
        public async Task Abort_leaves_nothing_behind_and_is_idempotent()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await message.Body.WriteAsync(Message, 0, Message.Length);
            Assert.True(File.Exists(message.TempPath));

            writer.Abort(message);
            writer.Abort(message);
            message.Dispose();

            Assert.False(File.Exists(message.TempPath));
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("ready"));
            Assert.Equal(1, writer.Counters.Aborts);
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CommitAsync(message));
        }

        [Fact]
        public void Disposing_an_uncommitted_message_aborts_it()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using (var message = writer.BeginMessage(TempSpool.NewEnvelope()))
                message.Body.Write(Message, 0, Message.Length);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public async Task Aborting_or_disposing_after_commit_keeps_the_message()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await writer.CommitAsync(message);
            writer.Abort(message);
            message.Dispose();
            Assert.Single(spool.Files("ready"));
            Assert.Equal(0, writer.Counters.Aborts);
        }

        [Fact]
        public async Task A_message_commits_only_once()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await writer.CommitAsync(message);
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CommitAsync(message));
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public void An_invalid_envelope_is_refused_before_any_file_is_created()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var noRecipients = TempSpool.NewEnvelope();
            noRecipients.Recipients.Clear();
            Assert.Throws<ArgumentException>(() => writer.BeginMessage(noRecipients));
            Assert.Null(noRecipients.Id);
            Assert.Throws<ArgumentException>(() => writer.BeginMessage(new Envelope()));
            Assert.Throws<ArgumentNullException>(() => writer.BeginMessage(null));
            Assert.Empty(spool.Files("incoming"));

            // An envelope with an id belongs to a message already: begun, or read from the spool.
            var used = TempSpool.NewEnvelope();
            using (writer.BeginMessage(used)) { }
            var ex = Assert.Throws<ArgumentException>(() => writer.BeginMessage(used));
            Assert.Equal("envelope", ex.ParamName);
            Assert.Empty(spool.Files("incoming"));
        }

        [Fact]
        public async Task A_message_of_another_writer_is_refused()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var other = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await Assert.ThrowsAsync<ArgumentException>(() => other.CommitAsync(message));
            Assert.Throws<ArgumentException>(() => other.Abort(message));
            await writer.CommitAsync(message);
        }

        [Fact]
        public async Task A_failed_commit_leaves_nothing_behind_and_reports_io()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await message.Body.WriteAsync(Message, 0, Message.Length);
            Directory.Delete(spool.Dir("ready"));   // the commit's rename will fail

            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message));
            Assert.Equal(SpoolErrorReason.Io, ex.Reason);
            Assert.Equal(message.Id, ex.Id);
            Assert.IsAssignableFrom<IOException>(ex.InnerException);
            Assert.False(message.IsCommitted);
            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(1, writer.Counters.Failures);
            Assert.Equal(0, writer.Counters.Commits);
        }

        [Fact]
        public async Task A_failed_directory_sync_fails_the_commit_and_retracts_the_message()
        {
            using var spool = new TempSpool();
            var failReady = false;
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir =>
            {
                if (failReady && dir.EndsWith("ready", StringComparison.Ordinal)) throw new IOException("fsync failed", 5);
            }, slots: false);
            failReady = true;
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message));
            Assert.Equal(SpoolErrorReason.Io, ex.Reason);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public async Task A_full_disk_during_commit_is_reported_as_full()
        {
            using var spool = new TempSpool();
            var armed = false;
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir =>
            {
                if (armed) throw new IOException("no space", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28);
            }, slots: false);
            armed = true;
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message));
            Assert.Equal(SpoolErrorReason.Full, ex.Reason);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public async Task A_commit_into_a_slot_asks_for_no_directory_sync_the_slots_came_synced()
        {
            using var spool = new TempSpool();
            var synced = new List<string>();
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir => { lock (synced) synced.Add(dir); });
            // The layout's creation, then one sync of incoming/ for the slots made at open.
            Assert.Equal(spool.Dir("incoming"), synced.Last());
            Assert.Equal(IncomingSlots.Capacity, spool.Slots);
            synced.Clear();
            await CommitOne(writer);
            await CommitOne(writer);
            Assert.Empty(synced);
            Assert.Equal(IncomingSlots.Capacity - 2, spool.Slots);
            Assert.Equal(2, spool.Files("ready").Length);
        }

        [Fact]
        public async Task Without_a_slot_a_commit_asks_for_one_directory_sync_of_ready_and_nothing_else()
        {
            using var spool = new TempSpool();
            var synced = new List<string>();
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir => { lock (synced) synced.Add(dir); }, slots: false);
            synced.Clear();   // the layout's creation
            await CommitOne(writer);
            await CommitOne(writer);
            Assert.Equal(new[] { spool.Dir("ready"), spool.Dir("ready") }, synced);
            Assert.Equal(2, writer.Counters.DirectorySyncRequests);
            Assert.Equal(2, writer.Counters.DirectoryFsyncs);
            Assert.Equal(0, spool.Slots);
        }

        [Fact]
        public async Task A_commit_cancelled_after_the_commit_point_finishes()
        {
            using var spool = new TempSpool();
            using var cts = new CancellationTokenSource();
            var armed = false;
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir => { if (armed) cts.Cancel(); }, slots: false);
            armed = true;
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await writer.CommitAsync(message, cts.Token);   // cancelled during the sync of ready/
            Assert.True(cts.IsCancellationRequested);
            Assert.True(message.IsCommitted);
            Assert.Equal(new[] { message.Id + ".msg" }, spool.Files("ready"));
        }

        [Fact]
        public async Task A_commit_with_an_already_cancelled_token_leaves_the_message_open()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CommitAsync(message, new CancellationToken(true)));
            Assert.True(File.Exists(message.TempPath));
            message.Dispose();
            Assert.False(File.Exists(message.TempPath));
            Assert.Empty(spool.Files("incoming"));
        }

        static void MakeOld(string path) =>
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow - SpoolWriter.OrphanAge - TimeSpan.FromMinutes(1));

        [Fact]
        public void Open_removes_leftover_temporary_files()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            var id = SpoolId.New();
            foreach (var name in new[] { id + ".tmp", "stray" })
            {
                File.WriteAllText(Path.Combine(spool.Dir("incoming"), name), "left by a crash");
                MakeOld(Path.Combine(spool.Dir("incoming"), name));
            }
            var recent = Path.Combine(spool.Dir("incoming"), SpoolId.New() + ".tmp");
            File.WriteAllText(recent, "a commit about to rename it");

            SpoolWriter.Open(spool.Root);
            Assert.Equal(new[] { Path.GetFileName(recent) }, spool.Files("incoming"));
        }

        [Fact]
        public async Task Open_keeps_the_incoming_file_of_a_live_writer()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage(TempSpool.NewEnvelope());
            await message.Body.WriteAsync(Message, 0, Message.Length);
            MakeOld(message.TempPath);   // a slow client

            SpoolWriter.Open(spool.Root);   // a second proxy starting on the same spool

            Assert.True(File.Exists(message.TempPath));
            await writer.CommitAsync(message);
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public async Task Debris_too_young_at_open_is_removed_by_a_later_sweep_and_committed_mail_never()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            var crashed = Path.Combine(spool.Dir("incoming"), SpoolId.New() + ".tmp");
            File.WriteAllText(crashed, "left by a crash just before this restart");
            File.SetLastWriteTimeUtc(crashed, DateTime.UtcNow.AddMinutes(-1));

            var writer = SpoolWriter.Open(spool.Root);
            Assert.True(File.Exists(crashed));
            var kept = await CommitOne(writer);
            File.SetLastWriteTimeUtc(Path.Combine(spool.Dir("ready"), kept + ".msg"), DateTime.UtcNow.AddHours(-1));
            using var inFlight = writer.BeginMessage(TempSpool.NewEnvelope());

            MakeOld(crashed);
            MakeOld(inFlight.TempPath);
            Assert.Equal(1, writer.RemoveDebris());
            Assert.False(File.Exists(crashed));
            Assert.Equal(new[] { kept + ".msg" }, spool.Files("ready"));
            Assert.True(File.Exists(inFlight.TempPath));   // the live message is not debris
            await writer.CommitAsync(inFlight);
        }

        [Fact]
        public async Task Committed_messages_survive_reopening()
        {
            using var spool = new TempSpool();
            var id = await CommitOne(SpoolWriter.Open(spool.Root));
            var reopened = SpoolWriter.Open(spool.Root);
            Assert.Equal(id, Assert.Single(SpoolReader.List(reopened.Root)).Id);
            Assert.Equal(Message, ReadBody(reopened.Root, id));
        }

        [Fact]
        public void Free_bytes_of_the_spool_volume_are_known()
        {
            using var spool = new TempSpool();
            Assert.True(SpoolWriter.Open(spool.Root).FreeBytes > 0);
        }

        [UnixFact]
        public void The_spool_directories_are_private_0700()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);

            // Files get no chmod of their own: inside these directories nobody else reaches them.
            const UnixFileMode dir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            Assert.Equal(dir, File.GetUnixFileMode(spool.Root));
            foreach (var name in new[] { "incoming", "ready", "active", "deferred", "held", "failed", "corrupt" })
                Assert.Equal(dir, File.GetUnixFileMode(spool.Dir(name)));
        }

        [UnixFact]
        public void An_existing_root_keeps_the_mode_its_owner_gave_it()
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Root);
            const UnixFileMode shared = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                                        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute;
            File.SetUnixFileMode(spool.Root, shared);
            SpoolWriter.Open(spool.Root);
            Assert.Equal(shared, File.GetUnixFileMode(spool.Root));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(spool.Dir("ready")));
        }
    }
}
