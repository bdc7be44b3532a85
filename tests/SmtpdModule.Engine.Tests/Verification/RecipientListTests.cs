using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>What a compiled recipient list answers: entries, wildcards, refusals, case, IDN.</summary>
    public sealed class RecipientListTests
    {
        static void Known(RecipientList list, string mailbox, string detail)
        {
            var a = list.Check(mailbox);
            Assert.Equal(MailboxStatus.Known, a.Status);
            Assert.Equal("list", a.Source);
            Assert.Equal(detail, a.Detail);
        }

        static void Unknown(RecipientList list, string mailbox, string detail)
        {
            var a = list.Check(mailbox);
            Assert.Equal(MailboxStatus.Unknown, a.Status);
            Assert.Equal(detail, a.Detail);
        }

        [Fact]
        public void An_exact_entry_admits_its_address_only_and_an_unlisted_domain_is_unknown()
        {
            var list = RecipientList.Parse("# users\nuser@example.org\n");
            Known(list, "user@example.org", "line 2: user@example.org");
            Unknown(list, "other@example.org", "no entry for this address");
            Unknown(list, "user@example.net", "domain not listed");
            Unknown(list, "user@sub.example.org", "domain not listed");
        }

        [Fact]
        public void A_domain_entry_admits_every_address_of_the_domain_in_either_spelling()
        {
            var list = RecipientList.Parse("@example.org\n*@example.net\n");
            Known(list, "anyone@example.org", "line 1: @example.org");
            Known(list, "x.y+tag@example.net", "line 2: *@example.net");
            Unknown(list, "anyone@example.com", "domain not listed");
        }

        [Fact]
        public void Wildcards_in_the_local_part_match_per_domain()
        {
            var list = RecipientList.Parse("sales-*@example.org\na?c@example.org\nother@example.net\n");
            Known(list, "sales-east@example.org", "line 1: sales-*@example.org");
            Known(list, "sales-@example.org", "line 1: sales-*@example.org");   // '*' matches nothing too
            Unknown(list, "sales@example.org", "no entry for this address");
            Known(list, "abc@example.org", "line 2: a?c@example.org");
            Unknown(list, "ac@example.org", "no entry for this address");
            Unknown(list, "abbc@example.org", "no entry for this address");
            Unknown(list, "sales-east@example.net", "no entry for this address");   // the wildcard is example.org's only
        }

        [Fact]
        public void A_question_mark_takes_a_whole_character_outside_the_basic_plane()
        {
            var list = RecipientList.Parse("x?@example.org\n");
            Known(list, "x\U0001F600@example.org", "line 1: x?@example.org");
            Unknown(list, "x\U0001F600\U0001F600@example.org", "no entry for this address");
        }

        [Fact]
        public void A_refusal_wins_over_a_wildcard_or_a_domain_entry_wherever_it_stands()
        {
            var list = RecipientList.Parse(
                "!early@example.org\n@example.org\nearly@example.org\n!boss@example.org\n!test-*@example.org\n" +
                "sales-*@example.net\n!sales-old@example.net\n");
            Known(list, "alice@example.org", "line 2: @example.org");
            Unknown(list, "early@example.org", "line 1: !early@example.org");
            Unknown(list, "BOSS@example.org", "line 4: !boss@example.org");
            Unknown(list, "test-1@example.org", "line 5: !test-*@example.org");
            Known(list, "sales-new@example.net", "line 6: sales-*@example.net");
            Unknown(list, "sales-old@example.net", "line 7: !sales-old@example.net");
        }

        [Fact]
        public void A_domain_named_only_by_refusals_is_listed()
        {
            var list = RecipientList.Parse("!spam@example.com\n");
            Unknown(list, "spam@example.com", "line 1: !spam@example.com");
            Unknown(list, "ham@example.com", "no entry for this address");
        }

        [Fact]
        public void Local_parts_and_domains_compare_ignoring_case()
        {
            var list = RecipientList.Parse("John.Doe@Example.ORG\nSales-*@example.org\nJÖRG@example.org\n");
            Known(list, "john.doe@example.org", "line 1: John.Doe@Example.ORG");
            Known(list, "JOHN.DOE@EXAMPLE.org", "line 1: John.Doe@Example.ORG");
            Known(list, "SALES-1@Example.Org", "line 2: Sales-*@example.org");
            Known(list, "jörg@EXAMPLE.ORG", "line 3: JÖRG@example.org");
        }

        [Fact]
        public void Idn_domains_match_in_unicode_or_ascii_form_on_either_side()
        {
            var list = RecipientList.Parse("info@bücher.example\n@xn--caf-dma.example\n");
            Known(list, "info@bücher.example", "line 1: info@bücher.example");
            Known(list, "info@xn--bcher-kva.example", "line 1: info@bücher.example");
            Known(list, "info@BÜCHER.example", "line 1: info@bücher.example");
            Known(list, "info@XN--BCHER-KVA.EXAMPLE", "line 1: info@bücher.example");
            Known(list, "anyone@café.example", "line 2: @xn--caf-dma.example");
            Unknown(list, "info@buecher.example", "domain not listed");
            Assert.Equal(new[] { "xn--bcher-kva.example", "xn--caf-dma.example" }, list.Domains);
        }

        [Fact]
        public void Unicode_local_parts_match_whatever_their_normalization()
        {
            var list = RecipientList.Parse("j\u00F6rg@example.org\n");               // NFC: ö as one character
            Known(list, "jo\u0308rg@example.org", "line 1: j\u00F6rg@example.org");   // NFD: o + combining diaeresis
        }

        [Fact]
        public void Comments_blank_lines_crlf_and_a_bom_are_not_entries()
        {
            var list = RecipientList.Parse("\uFEFF# a comment\r\n\r\n   # indented comment\r\n\t\r\n  user@example.org  \r\n#other@example.org");
            Assert.Equal(1, list.EntryCount);
            Known(list, "user@example.org", "line 5: user@example.org");
            Unknown(list, "other@example.org", "no entry for this address");
        }

        [Fact]
        public void A_repeated_entry_answers_with_its_first_line()
        {
            var list = RecipientList.Parse("user@example.org\nUSER@example.org\n");
            Known(list, "user@example.org", "line 1: user@example.org");
        }

        [Fact]
        public void An_address_without_a_domain_is_not_one_the_list_can_admit()
        {
            var list = RecipientList.Parse("@example.org\n");
            Unknown(list, "postmaster", "no domain in the address");
            Unknown(list, "user@", "no domain in the address");
        }

        [Fact]
        public void A_malformed_domain_in_a_lookup_is_an_unlisted_domain()
        {
            var list = RecipientList.Parse("@example.org\n");
            Unknown(list, "user@exa\u0000mple.org", "domain not listed");
            Unknown(list, "user@b\u00FCcher..example", "domain not listed");
        }

        [Fact]
        public void A_trailing_dot_on_the_domain_is_the_same_domain()
        {
            var list = RecipientList.Parse("user@example.org.\n");
            Known(list, "user@example.org", "line 1: user@example.org.");
            Known(list, "user@example.org.", "line 1: user@example.org.");
        }
    }
}
