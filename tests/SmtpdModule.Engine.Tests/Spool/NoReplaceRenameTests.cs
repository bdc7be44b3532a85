using System.IO;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class NoReplaceRenameTests
    {
        [Fact]
        public void Renames_a_file_to_a_free_name()
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Dir("a"));
            var from = Path.Combine(spool.Dir("a"), "x.tmp");
            var to = Path.Combine(spool.Dir("a"), "x.msg");
            File.WriteAllText(from, "one");

            NoReplaceRename.Move(from, to);

            Assert.False(File.Exists(from));
            Assert.Equal("one", File.ReadAllText(to));
        }

        [Fact]
        public void Never_replaces_an_existing_file_and_leaves_both()
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Dir("a"));
            var from = Path.Combine(spool.Dir("a"), "x.tmp");
            var to = Path.Combine(spool.Dir("a"), "x.msg");
            File.WriteAllText(from, "new");
            File.WriteAllText(to, "old");

            var ex = Assert.ThrowsAny<IOException>(() => NoReplaceRename.Move(from, to));

            Assert.IsNotType<FileNotFoundException>(ex);
            Assert.Equal("new", File.ReadAllText(from));
            Assert.Equal("old", File.ReadAllText(to));
        }

        [Fact]
        public void A_source_that_is_gone_is_file_not_found()
        {
            using var spool = new TempSpool();
            Directory.CreateDirectory(spool.Dir("a"));
            Assert.Throws<FileNotFoundException>(() =>
                NoReplaceRename.Move(Path.Combine(spool.Dir("a"), "gone.tmp"), Path.Combine(spool.Dir("a"), "x.msg")));
        }
    }
}
