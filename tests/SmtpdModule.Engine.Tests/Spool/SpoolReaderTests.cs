using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolReaderTests
    {
        static async Task<string> Commit(SpoolWriter writer, string recipient, string body = "x")
        {
            using var message = writer.BeginMessage(TempSpool.NewEnvelope(recipient));
            var bytes = Encoding.ASCII.GetBytes(body);
            message.Body.Write(bytes, 0, bytes.Length);
            await writer.CommitAsync(message);
            return message.Id;
        }

        [Fact]
        public async Task List_reads_only_message_files_with_valid_ids_in_id_order()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var ids = new[] { await Commit(writer, "<1@x>"), await Commit(writer, "<2@x>"), await Commit(writer, "<3@x>") };
            File.WriteAllText(Path.Combine(spool.Dir("ready"), "README"), "not a message");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), ids[0] + ".tmp"), "junk");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), ids[0] + ".status"), "junk");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), "../../x.msg".Replace('/', '_')), "junk");

            var errors = new List<SpoolException>();
            var listed = SpoolReader.List(spool.Root, SpoolLayout.Ready, errors);
            Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), listed.Select(e => e.Id));
            Assert.Empty(errors);
        }

        [Fact]
        public async Task List_reads_the_header_only_and_derives_the_size_from_the_file_length()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            // A body that is not UTF-8 and looks like a header: never parsed.
            using (var message = writer.BeginMessage(TempSpool.NewEnvelope()))
            {
                var body = new byte[100_000];
                new Random(2).NextBytes(body);
                var fake = Encoding.ASCII.GetBytes("smtpd-envelope 1\nid: nope\n\n");
                message.Body.Write(fake, 0, fake.Length);
                message.Body.Write(body, 0, body.Length);
                await writer.CommitAsync(message);
                var listed = Assert.Single(SpoolReader.List(spool.Root));
                Assert.Equal(message.Id, listed.Id);
                Assert.Equal(fake.Length + body.Length, listed.Size);
                using var stream = SpoolReader.OpenBody(spool.Root, message.Id);
                Assert.Equal(fake.Concat(body), TempSpool.ReadAll(stream));
            }
        }

        [Fact]
        public async Task A_corrupt_message_file_is_reported_with_its_id_and_does_not_hide_the_others()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var good = await Commit(writer, "<good@x>", "body\r\n");
            var goodText = File.ReadAllText(Path.Combine(spool.Dir("ready"), good + ".msg"));
            string Path_(string id) => Path.Combine(spool.Dir("ready"), id + ".msg");

            var bad = SpoolId.New();
            File.WriteAllText(Path_(bad), "smtpd-envelope 1\nid: " + bad + "\n\nbody");
            var badUtf8 = SpoolId.New();
            File.WriteAllBytes(Path_(badUtf8),
                Encoding.UTF8.GetBytes(goodText.Replace(good, badUtf8).Replace("helo: mail", "helo: \u00ffmail"))
                    .Select(b => b == 0xC3 ? (byte)0xFF : b).ToArray());
            var otherId = SpoolId.New();
            File.Copy(Path_(good), Path_(otherId));
            var truncated = SpoolId.New();
            File.WriteAllText(Path_(truncated), goodText.Replace(good, truncated).Substring(0, goodText.IndexOf("\n\n", StringComparison.Ordinal)));
            var statedSize = SpoolId.New();
            File.WriteAllText(Path_(statedSize), goodText.Replace(good, statedSize).Replace("protocol: ESMTP\n", "protocol: ESMTP\nsize: 6\n"));
            var rawCr = SpoolId.New();
            File.WriteAllText(Path_(rawCr), goodText.Replace(good, rawCr).Replace("smtputf8: false\n", "smtputf8: false\r\r\nx-late: 1\n"));

            var errors = new List<SpoolException>();
            var listed = SpoolReader.List(spool.Root, SpoolLayout.Ready, errors);

            Assert.Equal(good, Assert.Single(listed).Id);
            Assert.Equal(new[] { bad, badUtf8, otherId, truncated, statedSize, rawCr }.OrderBy(i => i, StringComparer.Ordinal),
                errors.Select(e => e.Id).OrderBy(i => i, StringComparer.Ordinal));
            Assert.All(errors, e => Assert.Equal(SpoolErrorReason.Corrupt, e.Reason));
            Assert.Equal("id", errors.Single(e => e.Id == otherId).Key);        // the file name is the id that counts
            Assert.Equal("size", errors.Single(e => e.Id == statedSize).Key);   // the size is derived, never stated
            Assert.Single(SpoolReader.List(spool.Root));                        // the short form skips them

            var noHeaderEnd = Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, truncated));
            Assert.Equal(SpoolErrorReason.Corrupt, noHeaderEnd.Reason);
            Assert.Equal(truncated, noHeaderEnd.Id);
        }

        [Fact]
        public async Task A_header_edited_to_crlf_line_ends_is_still_read()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer, "<b@x>", "body\n");
            var path = Path.Combine(spool.Dir("ready"), id + ".msg");
            File.WriteAllText(path, File.ReadAllText(path).Replace("\n", "\r\n"));
            var envelope = SpoolReader.Read(spool.Root, SpoolLayout.Ready, id);
            Assert.Equal("<b@x>", envelope.Recipients.Single().Address);
            Assert.Equal(6, envelope.Size);
            using var body = SpoolReader.OpenBody(spool.Root, id);
            Assert.Equal("body\r\n", Encoding.ASCII.GetString(TempSpool.ReadAll(body)));
        }

        [Fact]
        public async Task Messages_are_listed_and_opened_in_whichever_state_they_are()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer, "<b@x>", "held body");
            File.Move(Path.Combine(spool.Dir("ready"), id + ".msg"), Path.Combine(spool.Dir("held"), id + ".msg"));
            Assert.Empty(SpoolReader.List(spool.Root));
            Assert.Equal(id, Assert.Single(SpoolReader.List(spool.Root, SpoolLayout.Held)).Id);
            Assert.Equal(id, SpoolReader.Read(spool.Root, SpoolLayout.Held, id).Id);
            using (var body = SpoolReader.OpenBody(spool.Root, id))
                Assert.Equal("held body", Encoding.ASCII.GetString(TempSpool.ReadAll(body)));
            using (var body = SpoolReader.OpenBody(spool.Root, SpoolLayout.Held, id))
                Assert.Equal("held body", Encoding.ASCII.GetString(TempSpool.ReadAll(body)));
            Assert.Equal(SpoolErrorReason.NotFound,
                Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, SpoolLayout.Ready, id)).Reason);
        }

        [Fact]
        public void Unknown_ids_are_not_found()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            var id = SpoolId.New();
            Assert.Equal(SpoolErrorReason.NotFound, Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, id)).Reason);
            var ex = Assert.Throws<SpoolException>(() => SpoolReader.Read(spool.Root, SpoolLayout.Ready, id));
            Assert.Equal(SpoolErrorReason.NotFound, ex.Reason);
            Assert.Equal(id, ex.Id);
            Assert.Equal(SpoolErrorReason.NotFound, Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, "nope")).Reason);
        }

        [Fact]
        public void Listing_a_spool_that_does_not_exist_is_not_found()
        {
            using var spool = new TempSpool();
            var ex = Assert.Throws<SpoolException>(() => SpoolReader.List(spool.Root));
            Assert.Equal(SpoolErrorReason.NotFound, ex.Reason);
            Assert.Null(ex.Id);
        }
    }
}
