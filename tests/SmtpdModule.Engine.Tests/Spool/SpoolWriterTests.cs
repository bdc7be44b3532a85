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
    public class SpoolWriterTests
    {
        static readonly byte[] Message = Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nbody\r\n");

        static async Task<string> CommitOne(SpoolWriter writer, byte[] bytes = null, Envelope envelope = null)
        {
            using var message = writer.BeginMessage();
            var data = bytes ?? Message;
            await message.Body.WriteAsync(data, 0, data.Length);
            await writer.CommitAsync(message, envelope ?? TempSpool.NewEnvelope());
            Assert.True(message.IsCommitted);
            return message.Id;
        }

        [Fact]
        public void Open_creates_the_whole_layout()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            Assert.Equal(Path.GetFullPath(spool.Root), writer.Root);
            foreach (var name in new[] { "incoming", "data", "ready", "active", "deferred", "held", "failed", "corrupt" })
                Assert.True(Directory.Exists(spool.Dir(name)), name);
            Assert.Equal(new[] { "ready", "active", "deferred", "held", "failed" }, SpoolLayout.States);
        }

        [Fact]
        public async Task Commit_makes_data_and_envelope_visible_and_leaves_nothing_in_incoming()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await CommitOne(writer);

            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(new[] { id + ".eml" }, spool.Files("data"));
            Assert.Equal(new[] { id + ".env" }, spool.Files("ready"));
            Assert.Equal(Message, File.ReadAllBytes(Path.Combine(spool.Dir("data"), id + ".eml")));

            var listed = Assert.Single(SpoolReader.List(spool.Root));
            Assert.Equal(id, listed.Id);
            Assert.Equal(Message.Length, listed.Size);
            Assert.Equal("<b@example.com>", listed.Recipients.Single().Address);
            using (var body = SpoolReader.OpenBody(spool.Root, id))
            using (var copy = new MemoryStream())
            {
                body.CopyTo(copy);
                Assert.Equal(Message, copy.ToArray());
            }
            Assert.Equal(1, writer.Counters.Commits);
        }

        [Fact]
        public async Task Commit_fills_in_the_id_and_the_size_of_the_body()
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
            Assert.Equal(big, File.ReadAllBytes(Path.Combine(spool.Dir("data"), id + ".eml")));
        }

        [Fact]
        public async Task A_body_closed_by_the_caller_is_still_synced_and_committed()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            message.Body.Write(Message, 0, Message.Length);
            message.Body.Dispose();
            await writer.CommitAsync(message, TempSpool.NewEnvelope());
            Assert.Equal(Message, File.ReadAllBytes(Path.Combine(spool.Dir("data"), message.Id + ".eml")));
            Assert.Equal(Message.Length, SpoolReader.Read(spool.Root, "ready", message.Id).Size);
        }

        [Fact]
        public async Task Abort_leaves_nothing_behind_and_is_idempotent()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage();
            await message.Body.WriteAsync(Message, 0, Message.Length);
            Assert.Single(spool.Files("incoming"));

            writer.Abort(message);
            writer.Abort(message);
            message.Dispose();

            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
            Assert.Empty(spool.Files("ready"));
            Assert.Equal(1, writer.Counters.Aborts);
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope()));
        }

        [Fact]
        public void Disposing_an_uncommitted_message_aborts_it()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using (var message = writer.BeginMessage())
                message.Body.Write(Message, 0, Message.Length);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
        }

        [Fact]
        public async Task Aborting_or_disposing_after_commit_keeps_the_message()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage();
            await writer.CommitAsync(message, TempSpool.NewEnvelope());
            writer.Abort(message);
            message.Dispose();
            Assert.Single(spool.Files("ready"));
            Assert.Single(spool.Files("data"));
            Assert.Equal(0, writer.Counters.Aborts);
        }

        [Fact]
        public async Task A_message_commits_only_once()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var message = writer.BeginMessage();
            await writer.CommitAsync(message, TempSpool.NewEnvelope());
            await Assert.ThrowsAsync<InvalidOperationException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope()));
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public async Task An_invalid_envelope_is_refused_before_any_file_moves_and_the_message_stays_open()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            var envelope = TempSpool.NewEnvelope();
            envelope.Recipients.Clear();
            await Assert.ThrowsAsync<ArgumentException>(() => writer.CommitAsync(message, envelope));
            await Assert.ThrowsAsync<ArgumentException>(() => writer.CommitAsync(message, new Envelope { Id = SpoolId.New() }));
            Assert.Single(spool.Files("incoming"));

            await writer.CommitAsync(message, TempSpool.NewEnvelope());   // still committable
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public async Task A_message_of_another_writer_is_refused()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var other = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            await Assert.ThrowsAsync<ArgumentException>(() => other.CommitAsync(message, TempSpool.NewEnvelope()));
            Assert.Throws<ArgumentException>(() => other.Abort(message));
            await writer.CommitAsync(message, TempSpool.NewEnvelope());
        }

        [Fact]
        public async Task A_failed_commit_leaves_nothing_behind_and_reports_io()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            await message.Body.WriteAsync(Message, 0, Message.Length);
            Directory.Delete(spool.Dir("ready"));   // the commit's last rename will fail

            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope()));
            Assert.Equal(SpoolErrorReason.Io, ex.Reason);
            Assert.Equal(message.Id, ex.Id);
            Assert.IsAssignableFrom<IOException>(ex.InnerException);
            Assert.False(message.IsCommitted);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
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
            });
            failReady = true;
            using var message = writer.BeginMessage();
            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope()));
            Assert.Equal(SpoolErrorReason.Io, ex.Reason);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public async Task A_full_disk_during_commit_is_reported_as_full()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir =>
            {
                if (dir.EndsWith("data", StringComparison.Ordinal)) throw new IOException("no space", OperatingSystem.IsWindows() ? unchecked((int)0x80070070) : 28);
            });
            using var message = writer.BeginMessage();
            var ex = await Assert.ThrowsAsync<SpoolException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope()));
            Assert.Equal(SpoolErrorReason.Full, ex.Reason);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
        }

        [Fact]
        public async Task A_commit_cancelled_before_the_commit_point_leaves_nothing_behind()
        {
            using var spool = new TempSpool();
            using var cts = new CancellationTokenSource();
            var armed = false;
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir => { if (armed) cts.Cancel(); });
            armed = true;
            using var message = writer.BeginMessage();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope(), cts.Token));
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
            Assert.Empty(spool.Files("ready"));
        }

        [Fact]
        public async Task A_commit_with_an_already_cancelled_token_leaves_the_message_open()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => writer.CommitAsync(message, TempSpool.NewEnvelope(), new CancellationToken(true)));
            Assert.Single(spool.Files("incoming"));
            message.Dispose();
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
            foreach (var name in new[] { id + ".eml.tmp", id + ".env.tmp", "stray" })
            {
                File.WriteAllText(Path.Combine(spool.Dir("incoming"), name), "left by a crash");
                MakeOld(Path.Combine(spool.Dir("incoming"), name));
            }
            var recent = Path.Combine(spool.Dir("incoming"), SpoolId.New() + ".env.tmp");
            File.WriteAllText(recent, "a commit about to rename it");

            SpoolWriter.Open(spool.Root);
            Assert.Equal(new[] { Path.GetFileName(recent) }, spool.Files("incoming"));
        }

        [Fact]
        public async Task Open_keeps_the_incoming_file_of_a_live_writer()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var message = writer.BeginMessage();
            await message.Body.WriteAsync(Message, 0, Message.Length);
            MakeOld(Path.Combine(spool.Dir("incoming"), message.Id + ".eml.tmp"));   // a slow client

            SpoolWriter.Open(spool.Root);   // a second proxy starting on the same spool

            Assert.Single(spool.Files("incoming"));
            await writer.CommitAsync(message, TempSpool.NewEnvelope());
            Assert.Single(spool.Files("ready"));
        }

        [Fact]
        public async Task Open_removes_old_orphan_data_but_keeps_young_orphans_and_data_with_an_envelope()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var committed = await CommitOne(writer);
            var deferred = await CommitOne(writer);
            File.Move(Path.Combine(spool.Dir("ready"), deferred + ".env"), Path.Combine(spool.Dir("deferred"), deferred + ".env"));
            var old = DateTime.UtcNow.AddHours(-1);
            File.SetLastWriteTimeUtc(Path.Combine(spool.Dir("data"), committed + ".eml"), old);
            File.SetLastWriteTimeUtc(Path.Combine(spool.Dir("data"), deferred + ".eml"), old);

            var oldOrphan = SpoolId.New();
            var youngOrphan = SpoolId.New();
            File.WriteAllText(Path.Combine(spool.Dir("data"), oldOrphan + ".eml"), "crash between the renames");
            File.SetLastWriteTimeUtc(Path.Combine(spool.Dir("data"), oldOrphan + ".eml"), old);
            File.WriteAllText(Path.Combine(spool.Dir("data"), youngOrphan + ".eml"), "another writer, mid-commit");
            File.WriteAllText(Path.Combine(spool.Dir("data"), "notes.txt"), "not ours by name");
            File.SetLastWriteTimeUtc(Path.Combine(spool.Dir("data"), "notes.txt"), old);

            SpoolWriter.Open(spool.Root);

            Assert.Equal(
                new[] { committed + ".eml", deferred + ".eml", youngOrphan + ".eml", "notes.txt" }.OrderBy(n => n, StringComparer.Ordinal),
                spool.Files("data"));
            Assert.Equal(new[] { committed + ".env" }, spool.Files("ready"));
        }

        [Fact]
        public void Open_keeps_old_data_whose_envelope_a_live_commit_is_still_writing()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            var id = SpoolId.New();
            var data = Path.Combine(spool.Dir("data"), id + ".eml");
            File.WriteAllText(data, "a commit stalled between its renames");
            File.SetLastWriteTimeUtc(data, DateTime.UtcNow.AddHours(-1));
            var envelopeTmp = Path.Combine(spool.Dir("incoming"), id + ".env.tmp");
            using (new FileStream(envelopeTmp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                SpoolWriter.Open(spool.Root);
                Assert.True(File.Exists(data));
                Assert.True(File.Exists(envelopeTmp));
            }
            MakeOld(envelopeTmp);

            // Once nothing holds the envelope, it is debris, and so is the data.
            SpoolWriter.Open(spool.Root);
            Assert.Empty(spool.Files("incoming"));
            Assert.Empty(spool.Files("data"));
        }

        [Fact]
        public async Task An_orphan_too_young_at_open_is_removed_by_a_later_debris_sweep()
        {
            using var spool = new TempSpool();
            var orphan = SpoolId.New();
            SpoolWriter.Open(spool.Root);
            var path = Path.Combine(spool.Dir("data"), orphan + ".eml");
            File.WriteAllText(path, "left by a crash just before this restart");
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));

            var writer = SpoolWriter.Open(spool.Root);
            Assert.True(File.Exists(path));
            var kept = await CommitOne(writer);
            using var inFlight = writer.BeginMessage();

            MakeOld(path);
            MakeOld(Path.Combine(spool.Dir("incoming"), inFlight.Id + ".eml.tmp"));
            Assert.Equal(1, writer.RemoveDebris());
            Assert.False(File.Exists(path));
            Assert.Equal(new[] { kept + ".eml" }, spool.Files("data"));
            Assert.Single(spool.Files("incoming"));   // the live message is not debris
            await writer.CommitAsync(inFlight, TempSpool.NewEnvelope());
        }

        [Fact]
        public async Task Committed_messages_survive_reopening()
        {
            using var spool = new TempSpool();
            var id = await CommitOne(SpoolWriter.Open(spool.Root));
            var reopened = SpoolWriter.Open(spool.Root);
            Assert.Equal(id, Assert.Single(SpoolReader.List(reopened.Root)).Id);
        }

        [Fact]
        public void Free_bytes_of_the_spool_volume_are_known()
        {
            using var spool = new TempSpool();
            Assert.True(SpoolWriter.Open(spool.Root).FreeBytes > 0);
        }

        [UnixFact]
        public async Task The_spool_is_private_directories_0700_files_0600()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            using var open = writer.BeginMessage();
            var id = await CommitOne(writer);

            const UnixFileMode dir = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            const UnixFileMode file = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            Assert.Equal(dir, File.GetUnixFileMode(spool.Root));
            foreach (var name in new[] { "incoming", "data", "ready", "active", "deferred", "held", "failed", "corrupt" })
                Assert.Equal(dir, File.GetUnixFileMode(spool.Dir(name)));
            Assert.Equal(file, File.GetUnixFileMode(Path.Combine(spool.Dir("incoming"), open.Id + ".eml.tmp")));
            Assert.Equal(file, File.GetUnixFileMode(Path.Combine(spool.Dir("data"), id + ".eml")));
            Assert.Equal(file, File.GetUnixFileMode(Path.Combine(spool.Dir("ready"), id + ".env")));
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
