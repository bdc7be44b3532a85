using System.IO;
using System.Text;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>Malformed lists are refused with the line and column of each error.</summary>
    public sealed class RecipientListParserTests
    {
        [Theory]
        [InlineData("ok@example.org\nuser@\n", 2, 6, "the domain is missing after '@'")]
        [InlineData("user\n", 1, 1, "expected local@domain, @domain or *@domain")]
        [InlineData("  user@example.org # bob\n", 1, 19, "white space inside an entry")]
        [InlineData("user@exa mple.org\n", 1, 9, "white space inside an entry")]
        [InlineData("user@*.example.org\n", 1, 6, "wildcards are allowed only in the local part")]
        [InlineData("*@example.?rg\n", 1, 11, "wildcards are allowed only in the local part")]
        [InlineData("  !\n", 1, 4, "an address must follow '!'")]
        [InlineData("user@[127.0.0.1]\n", 1, 6, "address literals are not supported")]
        [InlineData("\n\nuser@bad..example\n", 3, 6, "'bad..example' is not a valid domain name")]
        [InlineData("a\u0001b@example.org\n", 1, 2, "a control character")]
        public void A_malformed_line_is_refused_with_its_line_and_column(string text, int line, int column, string reason)
        {
            var ex = Assert.Throws<RecipientListException>(() => RecipientList.Parse(text, "users.txt"));
            Assert.Equal(line, ex.Line);
            Assert.Equal(column, ex.Column);
            Assert.StartsWith(reason, ex.Reason);
            Assert.StartsWith("users.txt:" + line + ":" + column + ": " + reason, ex.Message);
            Assert.False(ex.IsUnreadable);
        }

        [Fact]
        public void A_label_longer_than_63_octets_is_not_a_domain()
        {
            var ex = Assert.Throws<RecipientListException>(() => RecipientList.Parse("u@" + new string('a', 64) + ".example\n"));
            Assert.Equal((1, 3), (ex.Line, ex.Column));
        }

        [Fact]
        public void Every_error_is_reported_not_only_the_first()
        {
            var ex = Assert.Throws<RecipientListException>(() => RecipientList.Parse("a@\ngood@example.org\nb\n"));
            Assert.Equal(2, ex.Errors.Count);
            Assert.Equal((1, 3), (ex.Errors[0].Line, ex.Errors[0].Column));
            Assert.Equal((3, 1), (ex.Errors[1].Line, ex.Errors[1].Column));
            Assert.EndsWith("(and 1 more error)", ex.Message);
        }

        [Fact]
        public void Reported_errors_stop_at_the_cap()
        {
            var text = new StringBuilder();
            for (int i = 0; i < RecipientListParser.MaxErrors + 50; i++) text.Append("nodomain\n");
            var ex = Assert.Throws<RecipientListException>(() => RecipientList.Parse(text.ToString()));
            Assert.Equal(RecipientListParser.MaxErrors, ex.Errors.Count);
        }

        [Fact]
        public void A_file_with_invalid_utf8_is_refused_at_the_bad_byte()
        {
            var dir = Directory.CreateTempSubdirectory("smtpd-vlist-").FullName;
            try
            {
                var path = Path.Combine(dir, "users");
                var bytes = new MemoryStream();
                bytes.Write(new byte[] { 0xEF, 0xBB, 0xBF });   // a BOM, which is fine
                bytes.Write(Encoding.UTF8.GetBytes("ok@example.org\nj\u00F6"));
                bytes.WriteByte(0xFF);
                bytes.Write(Encoding.UTF8.GetBytes("rg@example.org\n"));
                File.WriteAllBytes(path, bytes.ToArray());
                var ex = Assert.Throws<RecipientListException>(() => RecipientList.Load(path));
                Assert.Equal(path, ex.Path);
                Assert.Equal((2, 3), (ex.Line, ex.Column));
                Assert.Equal("the line is not valid UTF-8", ex.Reason);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void A_file_with_invalid_utf8_still_has_its_other_lines_checked()
        {
            var dir = Directory.CreateTempSubdirectory("smtpd-vlist-").FullName;
            try
            {
                var path = Path.Combine(dir, "users");
                var bytes = new MemoryStream();
                bytes.Write(Encoding.UTF8.GetBytes("user@\n"));
                bytes.Write(new byte[] { 0xC3, 0x28 });   // a lead byte without its continuation
                bytes.Write(Encoding.UTF8.GetBytes("@example.org\n"));
                File.WriteAllBytes(path, bytes.ToArray());
                var ex = Assert.Throws<RecipientListException>(() => RecipientList.Load(path));
                Assert.Equal(2, ex.Errors.Count);
                Assert.Equal((1, 6, "the domain is missing after '@'"), (ex.Errors[0].Line, ex.Errors[0].Column, ex.Errors[0].Reason));
                Assert.Equal((2, 1, "the line is not valid UTF-8"), (ex.Errors[1].Line, ex.Errors[1].Column, ex.Errors[1].Reason));
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void A_utf8_file_loads_with_its_unicode_entries()
        {
            var dir = Directory.CreateTempSubdirectory("smtpd-vlist-").FullName;
            try
            {
                var path = Path.Combine(dir, "users");
                File.WriteAllText(path, "\uFEFFj\u00F6rg@b\u00FCcher.example\r\n", new UTF8Encoding(false));
                var list = RecipientList.Load(path);
                Assert.Equal(MailboxStatus.Known, list.Check("J\u00D6RG@xn--bcher-kva.example").Status);
                Assert.Equal(path, list.Path);
            }
            finally { Directory.Delete(dir, true); }
        }

        [Fact]
        public void A_missing_file_is_unreadable_not_a_syntax_error()
        {
            var ex = Assert.Throws<RecipientListException>(() => RecipientList.Load(Path.Combine(Path.GetTempPath(), "no-such-dir-" + System.Guid.NewGuid(), "users")));
            Assert.True(ex.IsUnreadable);
            Assert.Equal((0, 0), (ex.Line, ex.Column));
        }
    }
}
