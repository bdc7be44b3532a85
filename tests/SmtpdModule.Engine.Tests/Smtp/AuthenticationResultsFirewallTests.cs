using System;
using System.IO;
using System.Text;
using SmtpdModule.Engine.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// RFC 8601 §5: an incoming Authentication-Results field that claims the proxy's authserv-id is
    /// removed, whatever comments, case or folding hide the id; fields under other ids stay.
    /// </summary>
    public class AuthenticationResultsFirewallTests
    {
        static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

        static (string Text, int Removed) Filter(string input, int block = int.MaxValue)
        {
            var bytes = Latin1.GetBytes(input);
            var sink = new MemoryStream();
            var filter = new HeaderFirewallStream(sink, new HeaderNameMatcher(Array.Empty<string>()), "mx.Example.test");
            for (int i = 0; i < bytes.Length; i += block)
                filter.Write(bytes, i, Math.Min(block, bytes.Length - i));
            filter.Complete();
            return (Latin1.GetString(sink.ToArray()), filter.Removed);
        }

        [Theory]
        [InlineData("Authentication-Results: mx.example.test; spf=pass smtp.mailfrom=a@example.org\r\n")]
        [InlineData("authentication-results:MX.EXAMPLE.TEST;spf=pass\r\n")]
        [InlineData("Authentication-Results: mx.example.test 1; spf=pass\r\n")]
        [InlineData("Authentication-Results : (forged) mx.example.test; dkim=pass\r\n")]
        [InlineData("Authentication-Results: (a (nested\r\n\t) comment \\) here)\r\n mx.example.test;\r\n\tspf=pass\r\n")]
        [InlineData("Authentication-Results:\r\n\tmx.example.test\r\n\t; spf=pass\r\n")]
        [InlineData("Authentication-Results: mx.example.test\r\n")]
        public void A_field_that_claims_our_id_is_removed_with_its_folded_lines(string field)
        {
            foreach (var block in new[] { 1, 5, int.MaxValue })
            {
                var (text, removed) = Filter("From: a@example.org\r\n" + field + "Subject: s\r\n\r\nbody\r\n", block);
                Assert.Equal("From: a@example.org\r\nSubject: s\r\n\r\nbody\r\n", text);
                Assert.Equal(1, removed);
            }
        }

        [Theory]
        [InlineData("Authentication-Results: mx.example.org; spf=pass\r\n")]
        [InlineData("Authentication-Results: mx.example.test.evil; spf=pass\r\n")]
        [InlineData("Authentication-Results: (mx.example.test) other.test; spf=pass\r\n")]
        [InlineData("Authentication-Results: ; none\r\n")]
        [InlineData("Authentication-Results:\r\n")]
        [InlineData("Authentication-Results-Extra: mx.example.test; spf=pass\r\n")]
        [InlineData("X-Note: Authentication-Results: mx.example.test; spf=pass\r\n")]
        public void Fields_under_other_ids_pass_untouched(string field)
        {
            foreach (var block in new[] { 1, 5, int.MaxValue })
            {
                var input = "From: a@example.org\r\n" + field + "Subject: s\r\n\r\nbody\r\n";
                var (text, removed) = Filter(input, block);
                Assert.Equal(input, text);
                Assert.Equal(0, removed);
            }
        }

        [Fact]
        public void An_id_hidden_past_the_limit_behind_comments_is_removed()
        {
            var field = "Authentication-Results: (" + new string('x', HeaderFirewallStream.ClaimLimit) + ") other.test; spf=pass\r\n";
            var (text, removed) = Filter("From: a@example.org\r\n" + field + "\r\nbody\r\n", 7);
            Assert.Equal("From: a@example.org\r\n\r\nbody\r\n", text);
            Assert.Equal(1, removed);
        }

        [Fact]
        public void The_body_is_never_filtered()
        {
            var input = "From: a@example.org\r\n\r\nAuthentication-Results: mx.example.test; spf=pass\r\n";
            Assert.Equal((input, 0), Filter(input, 3));
        }
    }
}
