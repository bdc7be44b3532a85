using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>Received-SPF (RFC 7208 §9.1) and Authentication-Results (RFC 8601) as the proxy writes them.</summary>
    public class SpfHeadersTests
    {
        static Task<SpfCheckResult> CheckAsync(string client, string from, string helo = "mail.example.org") =>
            new SpfEvaluator(new TxtDnsResolver()
                    .Txt("example.org", "v=spf1 ip4:198.51.100.0/24 -all")
                    .Txt("odd.example.org", "v=spf1 -exists:%{l}.x.example.org ip4:198.51.100.0/24 ?all"),
                "mx.example.test")
                .CheckMailFromAsync(IPAddress.Parse(client), helo, from);

        [Fact]
        public async Task A_pass_names_the_client_the_sender_and_the_mechanism()
        {
            var r = await CheckAsync("198.51.100.7", "<a@example.org>");
            Assert.Equal(
                "Received-SPF: pass (mx.example.test: domain of a@example.org designates 198.51.100.7 as permitted sender)\r\n" +
                "\tclient-ip=198.51.100.7;\r\n\tenvelope-from=\"a@example.org\";\r\n\thelo=mail.example.org;\r\n" +
                "\treceiver=mx.example.test;\r\n\tidentity=mailfrom;\r\n\tmechanism=\"ip4:198.51.100.0/24\";\r\n",
                SpfHeaders.ReceivedSpf(r, "198.51.100.7", "mail.example.org", "mx.example.test"));
            Assert.Equal("Authentication-Results: mx.example.test;\r\n\tspf=pass smtp.mailfrom=a@example.org\r\n",
                SpfHeaders.AuthenticationResults(r, "mx.example.test"));
        }

        [Fact]
        public async Task The_null_sender_is_reported_as_postmaster_at_the_helo_name()
        {
            var r = await CheckAsync("203.0.113.9", "<>", "example.org");
            Assert.Equal(SpfResult.Fail, r.Result);
            Assert.Contains("spf=fail smtp.mailfrom=postmaster@example.org", SpfHeaders.AuthenticationResults(r, "mx.example.test"));
        }

        [Fact]
        public async Task Hostile_text_cannot_end_the_field_or_add_one()
        {
            // A quoted local part with a quote, a parenthesis and a CR LF inside; a HELO with a space.
            var r = await CheckAsync("203.0.113.9", "<\"a\\\"b)\r\nX-Evil: 1\"@odd.example.org>", "bad helo\r\nX-Evil: 2");
            foreach (var field in new[] { SpfHeaders.ReceivedSpf(r, "203.0.113.9", "bad helo\r\nX-Evil: 2", "mx.example.test"),
                                          SpfHeaders.AuthenticationResults(r, "mx.example.test") })
            {
                Assert.DoesNotContain("\r\nX-Evil", field);
                foreach (var line in field.TrimEnd('\r', '\n').Split("\r\n"))
                    Assert.True(line.StartsWith("Received-SPF: ") || line.StartsWith("Authentication-Results: ") || line.StartsWith("\t"), line);
                foreach (var c in field) Assert.True(c == '\r' || c == '\n' || c == '\t' || c >= 0x20 && c < 0x7F, "byte " + (int)c);
            }
        }
    }
}
