using System;
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
        static async Task<string> Commit(SpoolWriter writer, string recipient)
        {
            using var message = writer.BeginMessage();
            message.Body.WriteByte((byte)'x');
            await writer.CommitAsync(message, TempSpool.NewEnvelope(recipient));
            return message.Id;
        }

        [Fact]
        public async Task List_reads_only_envelope_files_with_valid_ids_in_id_order()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var ids = new[] { await Commit(writer, "<1@x>"), await Commit(writer, "<2@x>"), await Commit(writer, "<3@x>") };
            File.WriteAllText(Path.Combine(spool.Dir("ready"), "README"), "not an envelope");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), ids[0] + ".env.tmp"), "junk");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), ids[0] + ".eml"), "junk");
            File.WriteAllText(Path.Combine(spool.Dir("ready"), "../../x.env".Replace('/', '_')), "junk");

            var errors = new System.Collections.Generic.List<SpoolException>();
            var listed = SpoolReader.List(spool.Root, SpoolLayout.Ready, errors);
            Assert.Equal(ids.OrderBy(i => i, StringComparer.Ordinal), listed.Select(e => e.Id));
            Assert.Empty(errors);
        }

        [Fact]
        public async Task A_corrupt_envelope_is_reported_with_its_id_and_does_not_hide_the_others()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var good = await Commit(writer, "<good@x>");
            var bad = SpoolId.New();
            File.WriteAllText(Path.Combine(spool.Dir("ready"), bad + ".env"), "smtpd-envelope 1\nid: " + bad + "\nsize: 1\n");
            var badUtf8 = SpoolId.New();
            File.WriteAllBytes(Path.Combine(spool.Dir("ready"), badUtf8 + ".env"),
                Encoding.UTF8.GetBytes(File.ReadAllText(Path.Combine(spool.Dir("ready"), good + ".env"))
                    .Replace(good, badUtf8).Replace("helo: mail", "helo: \u00ffmail"))
                    .Select(b => b == 0xC3 ? (byte)0xFF : b).ToArray());
            var otherId = SpoolId.New();
            File.Copy(Path.Combine(spool.Dir("ready"), good + ".env"), Path.Combine(spool.Dir("ready"), otherId + ".env"));

            var errors = new System.Collections.Generic.List<SpoolException>();
            var listed = SpoolReader.List(spool.Root, SpoolLayout.Ready, errors);

            Assert.Equal(good, Assert.Single(listed).Id);
            Assert.Equal(new[] { bad, badUtf8, otherId }.OrderBy(i => i, StringComparer.Ordinal), errors.Select(e => e.Id).OrderBy(i => i, StringComparer.Ordinal));
            Assert.All(errors, e => Assert.Equal(SpoolErrorReason.Corrupt, e.Reason));
            Assert.Equal("id", errors.Single(e => e.Id == otherId).Key);   // the file name is the id that counts
            Assert.Single(SpoolReader.List(spool.Root));                   // the short form skips them
        }

        [Fact]
        public async Task Envelopes_are_listed_in_whichever_state_they_are()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var id = await Commit(writer, "<b@x>");
            File.Move(Path.Combine(spool.Dir("ready"), id + ".env"), Path.Combine(spool.Dir("held"), id + ".env"));
            Assert.Empty(SpoolReader.List(spool.Root));
            Assert.Equal(id, Assert.Single(SpoolReader.List(spool.Root, SpoolLayout.Held)).Id);
            Assert.Equal(id, SpoolReader.Read(spool.Root, SpoolLayout.Held, id).Id);
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
