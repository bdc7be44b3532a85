using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>The proxy writes into each recipient's envelope line why it accepted it.</summary>
    public class ProvenanceTests
    {
        [Fact]
        public async Task Each_accepted_recipient_records_its_own_line_and_the_rules_hash()
        {
            using var proxy = TestProxy.Start("allow:ALL:ALL:a@example.test\nnoto:ALL:ALL:n@example.test\nallow:ALL:ALL:b@example.test:550 no; 100%% sure\n");
            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await smtp.SendAsync("EHLO client.test", expect: "250");
                await smtp.SendAsync("MAIL FROM:<s@example.org>", expect: "250");
                await smtp.SendAsync("RCPT TO:<a@example.test>", expect: "250");
                await smtp.SendAsync("RCPT TO:<n@example.test>", expect: "550");
                await smtp.SendAsync("RCPT TO:<b@example.test>", expect: "250");
                await smtp.SendAsync("RCPT TO:<c@example.test>", expect: "250");
                await smtp.SendAsync("DATA", expect: "354");
                await smtp.SendAsync("Subject: x\r\n\r\nhello\r\n.", expect: "250");
            }
            var sha = RuleSet.Load(proxy.RulesPath).Sha256;

            var envelope = proxy.Spooled().Single().Envelope;

            var why = envelope.Recipients.Select(r => r.Provenance).ToArray();
            Assert.Equal(new int?[] { 1, 3, null }, why.Select(p => p.Line));
            Assert.Equal(new[] { "allow:ALL:ALL:a@example.test", "allow:ALL:ALL:b@example.test:550 no; 100%% sure", null }, why.Select(p => p.Rule));
            Assert.Equal(new[] { null, null, "DefaultNoMatch" }, why.Select(p => p.Basis));
            Assert.All(why, p => Assert.Equal(sha, p.RulesSha256));
        }
    }
}
