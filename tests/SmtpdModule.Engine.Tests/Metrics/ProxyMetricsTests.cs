using System;
using System.IO;
using System.Threading.Tasks;
using SmtpdModule.Engine.Metrics;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Metrics
{
    /// <summary>A live proxy's metrics as rendered: the check results a grey line and recipient
    /// verification leave, counted per recipient, beside the verdicts per rule line.</summary>
    public sealed class ProxyMetricsTests : IDisposable
    {
        const string Rules = "grey:ALL:ALL:*@grey.test\nallow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n";
        readonly string _dir = Directory.CreateTempSubdirectory("smtpd-metrics-").FullName;

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

        [Fact]
        public async Task Grey_and_verification_results_and_per_line_verdicts_are_counted_per_recipient()
        {
            var listPath = Path.Combine(_dir, "recipients");
            File.WriteAllText(listPath, "alice@example.test\n");
            var list = RecipientListSource.Open(listPath, checkInterval: TimeSpan.Zero);
            using var proxy = TestProxy.Start(Rules, o => o.RecipientVerification.Sources.Add(new VerificationSource(list)));
            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await smtp.SendAsync("MAIL FROM:<s@elsewhere.test>", "250");
                await smtp.SendAsync("RCPT TO:<x@grey.test>", "4");           // grey line: first seen, deferred
                await smtp.SendAsync("RCPT TO:<alice@example.test>", "250");  // allowed, the list knows her
                await smtp.SendAsync("RCPT TO:<carol@example.test>", "550");  // allowed, the list does not know her
                await smtp.SendAsync("RCPT TO:<z@elsewhere.test>", "550");    // noto line
                await smtp.SendAsync("QUIT", "221");
            }

            var text = ProxyMetrics.Render(proxy.Proxy, new SpoolDepthCache(proxy.SpoolPath, TimeSpan.Zero));
            Assert.Contains("\nsmtpd_check_results_total{check=\"greylist\",result=\"first_seen\"} 1\n", text);
            Assert.Contains("\nsmtpd_check_results_total{check=\"verification\",result=\"known\"} 1\n", text);
            Assert.Contains("\nsmtpd_check_results_total{check=\"verification\",result=\"unknown\"} 1\n", text);
            Assert.Contains("\nsmtpd_recipient_verdicts_total{line=\"1\",basis=\"rule\",verdict=\"deferred\"} 1\n", text);
            Assert.Contains("\nsmtpd_recipient_verdicts_total{line=\"2\",basis=\"rule\",verdict=\"accepted\"} 1\n", text);
            Assert.Contains("\nsmtpd_recipient_verdicts_total{line=\"\",basis=\"recipient_verification\",verdict=\"refused\"} 1\n", text);
            Assert.Contains("\nsmtpd_recipient_verdicts_total{line=\"3\",basis=\"rule\",verdict=\"refused\"} 1\n", text);
            Assert.Contains("\nsmtpd_rule_info{line=\"1\",rule=\"grey:ALL:ALL:*@grey.test\"} 1\n", text);
            Assert.Contains("\nsmtpd_sessions_total 1\n", text);
            Assert.Contains("\nsmtpd_spool_messages{state=\"ready\"} 0\n", text);
        }

        [Fact]
        public void The_spool_depth_is_read_at_most_once_per_interval()
        {
            using var proxy = TestProxy.Start();
            var depth = new SpoolDepthCache(proxy.SpoolPath, TimeSpan.FromHours(1));
            Assert.Equal(0, depth.Read()[0]);
            File.WriteAllText(Path.Combine(proxy.SpoolPath, "ready", "20250102T030405-abcdefghijklmnopqrstuvwx.msg"), "");
            Assert.Equal(0, depth.Read()[0]);   // the cached count: a scrape storm does not list the disk
            Assert.Equal(1, new SpoolDepthCache(proxy.SpoolPath, TimeSpan.Zero).Read()[0]);
        }
    }
}
