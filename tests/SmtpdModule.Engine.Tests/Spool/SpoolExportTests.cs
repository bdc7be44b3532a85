using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolExportTests
    {
        static async Task<(SpoolQueue Queue, string First, string Second)> TwoMessages(TempSpool spool)
        {
            var writer = SpoolWriter.Open(spool.Root);
            var first = await TempSpool.CommitAsync(writer, "Subject: one\r\n\r\n.dot\r\n");
            var second = await TempSpool.CommitAsync(writer, "Subject: two\r\n\r\nbody\r\n");
            return (SpoolQueue.Open(spool.Root), first, second);
        }

        static byte[] Spooled(SpoolQueue queue, string id)
        {
            using var message = queue.OpenMessage(id);
            using var copy = new MemoryStream();
            message.CopyTo(copy);
            return copy.ToArray();
        }

        static string Folder(TempSpool spool, string name) => Directory.CreateDirectory(Path.Combine(spool.Parent, name)).FullName;

        [Fact]
        public async Task A_folder_gets_one_id_eml_per_message_with_the_spooled_bytes_and_the_spool_is_unchanged()
        {
            using var spool = new TempSpool();
            var (queue, first, second) = await TwoMessages(spool);
            var export = new SpoolExport(Folder(spool, "out"), overwrite: false);

            foreach (var id in new[] { first, second })
            {
                var file = export.Export(queue, id);
                Assert.Equal(Path.Combine(spool.Parent, "out", id + SpoolExport.Extension), file);
                Assert.Equal(Spooled(queue, id), File.ReadAllBytes(file));
            }
            Assert.Equal("Subject: one\r\n\r\n.dot\r\n", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(spool.Parent, "out", first + ".eml"))));
            Assert.Equal(2, queue.List().Count());
        }

        [Fact]
        public async Task A_file_destination_takes_one_message_and_never_a_second_even_with_overwrite()
        {
            using var spool = new TempSpool();
            var (queue, first, second) = await TwoMessages(spool);
            var target = Path.Combine(Folder(spool, "out"), "one.eml");
            var export = new SpoolExport(target, overwrite: true);

            Assert.Equal(target, export.Export(queue, first));
            var again = Assert.Throws<SpoolExportException>(() => export.Export(queue, second));
            Assert.Equal(SpoolExportFailure.AlreadyWritten, again.Failure);
            Assert.Equal(target, again.Path);
            Assert.Equal(Spooled(queue, first), File.ReadAllBytes(target));
        }

        [Fact]
        public async Task An_existing_file_is_kept_without_overwrite_and_replaced_with_it()
        {
            using var spool = new TempSpool();
            var (queue, first, _) = await TwoMessages(spool);
            var target = Path.Combine(Folder(spool, "out"), "existing.eml");
            File.WriteAllText(target, "keep me");

            var refused = Assert.Throws<SpoolExportException>(() => new SpoolExport(target, overwrite: false).Export(queue, first));
            Assert.Equal(SpoolExportFailure.Exists, refused.Failure);
            Assert.Equal(target, refused.Path);
            Assert.Equal("keep me", File.ReadAllText(target));

            Assert.Equal(target, new SpoolExport(target, overwrite: true).Export(queue, first));
            Assert.Equal(Spooled(queue, first), File.ReadAllBytes(target));
        }

        [Fact]
        public async Task A_file_that_appears_after_the_check_is_not_overwritten_either()
        {
            using var spool = new TempSpool();
            var (queue, first, _) = await TwoMessages(spool);
            var export = new SpoolExport(Folder(spool, "out"), overwrite: false);

            // The confirmation runs between the check and the write: the race, made certain.
            var raced = Assert.Throws<SpoolExportException>(() => export.Export(queue, first, file =>
            {
                File.WriteAllText(file, "got here first");
                return true;
            }));
            Assert.Equal(SpoolExportFailure.Exists, raced.Failure);
            Assert.IsAssignableFrom<IOException>(raced.InnerException);
            Assert.Equal("got here first", File.ReadAllText(raced.Path));
        }

        [Fact]
        public async Task A_declined_confirmation_writes_nothing_and_is_asked_with_the_file()
        {
            using var spool = new TempSpool();
            var (queue, first, _) = await TwoMessages(spool);
            var folder = Folder(spool, "out");
            string asked = null;

            Assert.Null(new SpoolExport(folder, overwrite: false).Export(queue, first, file => { asked = file; return false; }));
            Assert.Equal(Path.Combine(folder, first + ".eml"), asked);
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }

        [Theory]
        [InlineData("no-such-dir/x.eml", "no-such-dir")]
        [InlineData("no-such-dir-either/", "no-such-dir-either")]
        [InlineData("a-file/x.eml", "a-file")]
        public void A_missing_folder_is_refused_at_once_and_not_made(string destination, string folder)
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Parent);
            File.WriteAllText(Path.Combine(spool.Parent, "a-file"), "");
            var target = Path.Combine(spool.Parent, destination.Replace('/', Path.DirectorySeparatorChar));

            var refused = Assert.Throws<SpoolExportException>(() => new SpoolExport(target, overwrite: false));
            Assert.Equal(SpoolExportFailure.FolderNotFound, refused.Failure);
            Assert.Equal(Path.Combine(spool.Parent, folder), refused.Path.TrimEnd(Path.DirectorySeparatorChar));
            Assert.False(Directory.Exists(Path.Combine(spool.Parent, folder)));
        }

        [Fact]
        public async Task Unknown_and_malformed_ids_are_not_found_and_never_become_file_names()
        {
            using var spool = new TempSpool();
            var (queue, _, _) = await TwoMessages(spool);
            var folder = Folder(spool, "out");
            var export = new SpoolExport(folder, overwrite: true);

            foreach (var id in new[] { SpoolId.New(), "../escape", "nul" })
                Assert.Equal(SpoolErrorReason.NotFound, Assert.Throws<SpoolException>(() => export.Export(queue, id)).Reason);
            Assert.Empty(Directory.GetFileSystemEntries(spool.Parent, "*escape*", SearchOption.AllDirectories));
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }

        [Fact]
        public async Task A_file_the_system_refuses_is_unwritable_and_leaves_nothing()
        {
            using var spool = new TempSpool();
            var (queue, first, _) = await TwoMessages(spool);
            var folder = Folder(spool, "out");
            // Longer than any file system allows (255 bytes): the folder exists, the write fails.
            var target = Path.Combine(folder, new string('x', 300) + ".eml");

            var failed = Assert.Throws<SpoolExportException>(() => new SpoolExport(target, overwrite: false).Export(queue, first));
            Assert.Equal(SpoolExportFailure.Unwritable, failed.Failure);
            Assert.Equal(target, failed.Path);
            Assert.NotNull(failed.InnerException);
            Assert.Empty(Directory.GetFileSystemEntries(folder));
        }
    }
}
