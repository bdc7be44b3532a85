using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// Header fields only the inside may set are removed from incoming mail before it is spooled
    /// (SmtpProxyOptions.RemoveHeaders): the header section only, folded lines with their field,
    /// the body untouched.
    /// </summary>
    public class HeaderFirewallTests
    {
        static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

        const string Incoming =
            "X-MS-Exchange-Organization-SCL: -1\r\n" +
            "From: a@example.org\r\n" +
            "x-ms-exchange-organization-authas: Internal\r\n" +
            "\tfolded on\r\n" +
            "  and on\r\n" +
            "Subject: hello\r\n" +
            "X-MS-Exchange-Organization-AuthSource : ex01.corp.example\r\n" +
            "not a field at all\r\n" +
            "X-MS-Exchange-CrossTenant-AuthAs: Internal\r\n" +
            "X-MS-Exchange-Forest-RulesExecuted: x\r\n" +
            "X-MS-Exchange-CrossPremises-SCL: -1\r\n" +
            "X-MS-Exchange-Organization: not a prefix match\r\n" +
            "X-MS-Has-Attach: yes\r\n" +
            "\r\n" +
            "X-MS-Exchange-Organization-SCL: -1 in the body stays\r\n" +
            " and so does this\r\n";

        const string Kept =
            "From: a@example.org\r\n" +
            "Subject: hello\r\n" +
            "not a field at all\r\n" +
            "X-MS-Exchange-Organization: not a prefix match\r\n" +
            "X-MS-Has-Attach: yes\r\n" +
            "\r\n" +
            "X-MS-Exchange-Organization-SCL: -1 in the body stays\r\n" +
            " and so does this\r\n";

        static async Task<(string Body, int Removed)> SendAsync(TestProxy proxy, string text)
        {
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("MAIL FROM:<a@example.org>", "250");
            await smtp.SendAsync("RCPT TO:<b@example.com>", "250");
            await smtp.SendAsync("DATA", "354");
            await smtp.WriteAsync(Latin1.GetBytes(text));
            var id = (await smtp.SendAsync(".", "250")).Split(' ').Last();
            var m = proxy.Spooled().Single(x => x.Envelope.Id == id);
            var body = Latin1.GetString(m.Body);
            // Our own Received: field comes first and is not filtered.
            Assert.StartsWith("Received: ", body);
            var e = proxy.Events.Single(x => x.Kind == "accepted" && x.Message == id);
            return (body.Substring(body.IndexOf("\r\n", body.IndexOf("; ", StringComparison.Ordinal), StringComparison.Ordinal) + 2),
                    (int)e.Data.First(d => d.Key == "headersRemoved").Value);
        }

        [Fact]
        public async Task Exchange_organization_fields_are_removed_by_default_with_their_folded_lines()
        {
            using var proxy = TestProxy.Start();
            var (body, removed) = await SendAsync(proxy, Incoming);
            Assert.Equal(Kept, body);
            Assert.Equal(6, removed);
        }

        [Fact]
        public async Task The_admin_list_replaces_the_default_and_takes_wildcards()
        {
            using var proxy = TestProxy.Start(configure: o => o.RemoveHeaders = new[] { "x-internal-?", "X-Secret*" });
            var (body, removed) = await SendAsync(proxy, "X-Internal-1: a\r\nX-Internal-12: b\r\nX-SECRET: c\r\n d\r\nX-MS-Exchange-Organization-SCL: -1\r\n\r\nbody\r\n");
            Assert.Equal("X-Internal-12: b\r\nX-MS-Exchange-Organization-SCL: -1\r\n\r\nbody\r\n", body);
            Assert.Equal(2, removed);
        }

        [Fact]
        public async Task An_empty_list_removes_nothing()
        {
            using var proxy = TestProxy.Start(configure: o => o.RemoveHeaders = Array.Empty<string>());
            var (body, removed) = await SendAsync(proxy, Incoming);
            Assert.Equal(Incoming, body);
            Assert.Equal(0, removed);
        }

        [Fact]
        public void A_pattern_with_a_colon_or_a_space_is_refused_at_start()
        {
            var ex = Assert.Throws<ArgumentException>(() => TestProxy.Start(configure: o => o.RemoveHeaders = new[] { "X-A: b" }));
            Assert.Equal("RemoveHeaders", ex.ParamName);
        }

        [Theory]
        [InlineData(1)]
        [InlineData(3)]
        [InlineData(7)]
        [InlineData(int.MaxValue)]
        public void The_filter_gives_the_same_bytes_whatever_the_blocks_it_is_written_in(int block)
        {
            var long_ = "X-MS-Exchange-Organization-Long: " + new string('v', 20000) + "\r\n";
            var input = Latin1.GetBytes(long_ + Incoming);
            var sink = new MemoryStream();
            var filter = new HeaderFirewallStream(sink, new HeaderNameMatcher(SmtpProxyOptions.DefaultRemoveHeaders));
            for (int i = 0; i < input.Length; i += block)
                filter.WriteAsync(input, i, Math.Min(block, input.Length - i)).GetAwaiter().GetResult();
            filter.Complete();
            Assert.Equal(Kept, Latin1.GetString(sink.ToArray()));
            Assert.Equal(7, filter.Removed);
        }

        [Theory]
        [InlineData("X-MS-Exchange-Organization-*", "X-MS-Exchange-Organization-SCL", true)]
        [InlineData("X-MS-Exchange-Organization-*", "x-ms-exchange-organization-", true)]
        [InlineData("X-MS-Exchange-Organization-*", "X-MS-Exchange-Organization", false)]
        [InlineData("*-SCL", "X-MS-Exchange-Organization-SCL", true)]
        [InlineData("X-?", "X-1", true)]
        [InlineData("X-?", "X-12", false)]
        [InlineData("X-*-*-Z", "X-a-b-c-Z", true)]
        [InlineData("X-*-*-Z", "X-a-Z", false)]
        public void Names_match_patterns_without_regard_to_case(string pattern, string name, bool matches)
        {
            var b = Encoding.ASCII.GetBytes(name);
            Assert.Equal(matches, new HeaderNameMatcher(new[] { pattern }).Matches(b, 0, b.Length));
        }
    }
}
