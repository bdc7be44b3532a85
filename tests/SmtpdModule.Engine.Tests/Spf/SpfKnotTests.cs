using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>TXT through DnsClientResolver from knotd, and a check over it (tests/fixtures/dns: example.test's SPF).</summary>
    [Collection("dns")]
    public class SpfKnotTests
    {
        readonly TestDnsServer _dns;

        public SpfKnotTests(TestDnsServer dns)
        {
            _dns = dns;
        }

        [Fact]
        public async Task Txt_answers_are_one_value_per_record()
        {
            using var resolver = _dns.CreateResolver();
            var answer = await resolver.QueryAsync("example.test", DnsRecordType.TXT);
            Assert.Equal(DnsStatus.Ok, answer.Status);
            Assert.Equal(new[] { "v=spf1 mx a:mail.example.test -all" }, answer.Values);
            Assert.Empty((await resolver.QueryAsync("ns1.example.test", DnsRecordType.TXT)).Values);
        }

        [Theory]
        [InlineData("192.0.2.10", SpfResult.Pass, "a:mail.example.test")]
        [InlineData("192.0.2.25", SpfResult.Pass, "mx")]
        [InlineData("192.0.2.99", SpfResult.Fail, "-all")]
        public async Task Example_test_authorises_its_mx_and_mail_host(string client, SpfResult expected, string mechanism)
        {
            using var resolver = _dns.CreateResolver();
            var result = await new SpfEvaluator(resolver).CheckMailFromAsync(IPAddress.Parse(client), "mail.example.test", "a@example.test");
            Assert.Equal(expected, result.Result);
            Assert.Equal(mechanism, result.Mechanism);
        }
    }
}
