using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolIdTests
    {
        [Fact]
        public void New_ids_are_valid_unique_and_start_with_the_utc_time()
        {
            var at = new DateTimeOffset(2025, 6, 7, 8, 9, 10, TimeSpan.FromHours(-5));
            var ids = Enumerable.Range(0, 2000).Select(_ => SpoolId.New(at)).ToList();
            Assert.All(ids, id => Assert.True(SpoolId.IsValid(id), id));
            Assert.All(ids, id => Assert.StartsWith("20250607T130910-", id));
            Assert.Equal(ids.Count, ids.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.True(SpoolId.IsValid(SpoolId.New()));
        }

        [Fact]
        public void Ids_are_safe_as_file_names_and_in_urls()
        {
            var id = SpoolId.New();
            Assert.Equal(SpoolId.Length, id.Length);
            Assert.Equal(-1, id.IndexOfAny(Path.GetInvalidFileNameChars()));
            Assert.Equal(id, Uri.EscapeDataString(id));
            Assert.Equal(id, Path.GetFileName(id));
        }

        public static IEnumerable<object[]> Invalid()
        {
            var good = "20250102T030405-abcdefghijklmnopqrstuvwx";
            foreach (var bad in new[]
            {
                null, "", ".", "..",
                "../20250102T030405-abcdefghijklmnopqrstu",
                "..\\20250102T030405-abcdefghijklmnopqrstu",
                "20250102T030405-abcdefghijklmnopqrst/../x",
                "20250102T030405-abcdefghijklmnopqrstuvw.",   // Windows drops trailing dots
                "20250102T030405-abcdefghijklmnopqrstuvw ",   // and trailing spaces
                "20250102T030405-abcdefghijklmnopqrstuv.x",
                "C:20250102T030405-abcdefghijklmnopqrstuv",
                "/20250102T030405-abcdefghijklmnopqrstuvw",
                "20250102T030405-abcdefghijklmnopqrstuvw\0",
                "20250102T030405-ABCDEFGHIJKLMNOPQRSTUVWX",   // would collide with lower case on NTFS
                "20250102T030405-abcdefghijklmnopqrstuvw1",   // 1 is not base32
                "20250102t030405-abcdefghijklmnopqrstuvwx",
                "2025010XT030405-abcdefghijklmnopqrstuvwx",
                "20250102T030405_abcdefghijklmnopqrstuvwx",
                good + "a", good.Substring(1),
                "nul", "con", "aux", "com1",
                new string('a', 4096),
            })
                yield return new object[] { bad };
        }

        [Theory]
        [MemberData(nameof(Invalid))]
        public void Ids_that_are_not_exactly_the_generated_form_are_invalid(string id)
        {
            Assert.False(SpoolId.IsValid(id));
        }

        [Theory]
        [MemberData(nameof(Invalid))]
        public void Invalid_ids_never_become_paths(string id)
        {
            Assert.Throws<ArgumentException>(() => SpoolLayout.MessagePath("spool", SpoolLayout.Ready, id));
            Assert.Throws<ArgumentException>(() => SpoolLayout.IncomingPath("spool", id));
        }

        [Fact]
        public void A_traversal_id_is_not_found_even_when_its_target_exists()
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            // A file the traversal would reach if the id were used as a path.
            File.WriteAllText(Path.Combine(spool.Root, "secret.msg"), "smtpd-envelope 1\n\nnot spool data");

            var body = Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, "../secret"));
            Assert.Equal(SpoolErrorReason.NotFound, body.Reason);
            Assert.Equal("../secret", body.Id);
            var envelope = Assert.Throws<SpoolException>(() => SpoolReader.Read(spool.Root, SpoolLayout.Ready, "../secret"));
            Assert.Equal(SpoolErrorReason.NotFound, envelope.Reason);
            var inState = Assert.Throws<SpoolException>(() => SpoolReader.OpenBody(spool.Root, SpoolLayout.Ready, "../secret"));
            Assert.Equal(SpoolErrorReason.NotFound, inState.Reason);
        }

        [Fact]
        public void Canonical_gives_the_spool_spelling_of_an_id_typed_in_any_case()
        {
            var id = SpoolId.New();
            Assert.Equal(id, SpoolId.Canonical(id));
            Assert.Equal(id, SpoolId.Canonical(id.ToUpperInvariant()));
            Assert.Equal(id, SpoolId.Canonical(id.Substring(0, 8) + "t" + id.Substring(9)));
            Assert.Null(SpoolId.Canonical(null));
        }

        [Theory]
        [MemberData(nameof(Invalid))]
        public void Canonical_changes_only_case_so_only_a_miscased_id_becomes_valid(string id)
        {
            var canonical = SpoolId.Canonical(id);
            Assert.True(string.Equals(id, canonical, StringComparison.OrdinalIgnoreCase));
            if (SpoolId.IsValid(canonical))
                Assert.Contains(id, new[] { "20250102T030405-ABCDEFGHIJKLMNOPQRSTUVWX", "20250102t030405-abcdefghijklmnopqrstuvwx" });
        }

        [Theory]
        [InlineData("../ready")]
        [InlineData("incoming")]
        [InlineData("data")]
        [InlineData("Ready")]
        [InlineData("")]
        public void States_other_than_the_spool_states_are_refused(string state)
        {
            using var spool = new TempSpool();
            SpoolWriter.Open(spool.Root);
            Assert.Throws<ArgumentException>(() => SpoolReader.List(spool.Root, state));
        }
    }
}
