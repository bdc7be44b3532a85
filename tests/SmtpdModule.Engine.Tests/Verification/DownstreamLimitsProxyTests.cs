using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>
    /// A live proxy whose smart host is a real downstream (aiosmtpd on loopback, SIZE 1000000, no
    /// SMTPUTF8 unless told): the proxy announces no more than the downstream takes, refuses at the
    /// door what the downstream would refuse, records those refusals so a replay decides them the
    /// same way, and keeps its own limits when the downstream cannot be asked. Clients: smtplib and
    /// swaks, and a raw line client for the commands those will not send.
    /// </summary>
    public class DownstreamLimitsProxyTests
    {
        const long Own = PolicyOptions.DefaultMaxMessageSize;

        static TestProxy Start(int downstreamPort) =>
            TestProxy.Start(configure: o => o.SmartHostLimits =
                new DownstreamLimitsRefresher(DownstreamLimitsProbe.ForSmartHost("127.0.0.1", downstreamPort, "mx.example.test")));

        static object Send(TestProxy proxy, string message, string from = "a@example.org", string[] mailOptions = null) => new
        {
            host = "127.0.0.1",
            port = proxy.EndPoint.Port,
            helo = "client.example.test",
            from,
            to = new[] { "b@example.test" },
            message,
            mail_options = mailOptions ?? Array.Empty<string>(),
        };

        static string Big(int bytes) =>
            "Subject: big\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('z', 98) + "\r\n", bytes / 100 + 1));

        static JsonElement Features(JsonElement result) => result.GetProperty("features");

        static bool Has(JsonElement features, string name) => features.TryGetProperty(name, out _);

        [DownstreamFact]
        public async Task The_proxy_announces_the_smart_hosts_SIZE_and_logs_what_it_learned()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            using var proxy = Start(downstream.Port);

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, "Subject: small\r\n\r\nfits\r\n"));

            Assert.True(result.GetProperty("result").GetString() == "sent", run.ToString());
            Assert.Equal("1000000", Features(result).GetProperty("size").GetString());
            Assert.Single(proxy.Spooled());
            var learned = Assert.Single(proxy.Events, e => e.Kind == "downstream");
            Assert.Contains("SIZE 1000000, SMTPUTF8 no", learned.Message);
            Assert.Contains(learned.Data, kv => kv.Key == "maxMessageSize" && (long)kv.Value == 1000000);
            Assert.Equal(1000000, proxy.Proxy.SmartHostLimits.MaxSize);
        }

        [DownstreamFact]
        public async Task A_declared_SIZE_over_the_smart_hosts_is_refused_at_MAIL_with_552()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            using var proxy = Start(downstream.Port);
            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await smtp.SendAsync("MAIL FROM:<a@b.example> SIZE=2000000", "552 5.3.4");
                await smtp.SendAsync("MAIL FROM:<a@b.example> SIZE=1000000", "250");   // the limit itself fits
            }

            // smtplib declares the size of what it sends (RFC 1870) because EHLO offered SIZE.
            var message = Big(1200000);
            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, message));

            var error = result.GetProperty("error");
            Assert.True(error.GetProperty("type").GetString() == "SMTPSenderRefused", run.ToString());
            Assert.Equal(552, error.GetProperty("code").GetInt32());
            Assert.StartsWith("5.3.4", error.GetProperty("text").GetString());
            Assert.Contains("size=" + Encoding.UTF8.GetByteCount(message), result.GetProperty("debug").GetString());
            Assert.Empty(proxy.Spooled());
        }

        [DownstreamFact]
        public async Task A_message_over_the_smart_hosts_SIZE_sent_without_SIZE_is_refused_after_the_data_and_not_spooled()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            using var proxy = Start(downstream.Port);
            var file = Path.Combine(proxy.Dir, "big.eml");
            File.WriteAllText(file, Big(1200000));

            // swaks never declares SIZE: only the DATA phase can see the size.
            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--from", "a@example.org", "--to", "b@example.test", "--data", "@" + file, "--suppress-data",
            }, timeoutMs: 60000);

            Assert.DoesNotContain("SIZE=", run.Stdout, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("<-  354", run.Stdout);
            Assert.True(run.Stdout.Contains("<** 552 5.3.4"), run.ToString());
            Assert.Contains("<-  221", run.Stdout);   // the session went on
            Assert.Empty(proxy.Spooled());
            Assert.Contains(proxy.Events, e => e.Kind == "rejected" && e.Message.Contains("over 1000000 bytes"));
        }

        [DownstreamFact]
        public async Task A_smart_host_without_SMTPUTF8_takes_it_out_of_EHLO_and_an_SMTPUTF8_transaction_is_refused()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            using var proxy = Start(downstream.Port);

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "Subject: t\r\n\r\nx\r\n", from: "ü@example.org", mailOptions: new[] { "SMTPUTF8" }));
            // smtplib reads the EHLO and will not send what the proxy does not offer.
            Assert.False(Has(Features(result), "smtputf8"), run.ToString());
            Assert.Equal("SMTPNotSupportedError", result.GetProperty("error").GetProperty("type").GetString());

            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            // A parameter of an extension not offered is not recognised (RFC 5321 §4.1.1.11).
            await smtp.SendAsync("MAIL FROM:<a@b.example> SMTPUTF8", "555 5.5.4");
            await smtp.SendAsync("MAIL FROM:<ü@b.example> SMTPUTF8", "555 5.5.4");
            // Without it, a non-ASCII address needs SMTPUTF8 (RFC 6531 §3.5).
            await smtp.SendAsync("MAIL FROM:<ü@b.example>", "553 5.6.7");
            await smtp.SendAsync("MAIL FROM:<a@b.example>", "250");
            Assert.Empty(proxy.Spooled());
        }

        [DownstreamFact]
        public async Task A_smart_host_with_SMTPUTF8_and_no_SIZE_leaves_the_proxys_own_offer()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "0", "--smtputf8");
            using var proxy = Start(downstream.Port);

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py",
                Send(proxy, "Subject: t\r\n\r\nx\r\n", from: "ü@example.org", mailOptions: new[] { "SMTPUTF8" }));

            Assert.True(result.GetProperty("result").GetString() == "sent", run.ToString());
            Assert.Equal(Own.ToString(), Features(result).GetProperty("size").GetString());
            Assert.True(Has(Features(result), "smtputf8"));
            Assert.True(Assert.Single(proxy.Spooled()).Envelope.SmtpUtf8);
        }

        [DownstreamFact]
        public async Task A_smart_host_that_is_down_leaves_the_proxys_own_limits_and_a_warning()
        {
            var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            var port = downstream.Port;
            downstream.Dispose();
            using var proxy = Start(port);

            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", Send(proxy, Big(1200000)));

            Assert.True(result.GetProperty("result").GetString() == "sent", run.ToString());
            Assert.Equal(Own.ToString(), Features(result).GetProperty("size").GetString());
            Assert.True(Has(Features(result), "smtputf8"));
            var warning = Assert.Single(proxy.Events, e => e.Kind == "warning");
            Assert.Contains("127.0.0.1:" + port, warning.Message);
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "downstream");
        }

        [DownstreamFact]
        public async Task A_MAIL_refused_for_the_smart_hosts_limits_is_recorded_and_a_replay_decides_it_the_same_way()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            using var proxy = Start(downstream.Port);
            using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await smtp.SendAsync("MAIL FROM:<a@b.example> SIZE=2000000", "552 5.3.4");
                await smtp.SendAsync("MAIL FROM:<a@b.example> SMTPUTF8", "555 5.5.4");
            }
            // The log is written before each reply.
            var records = DecisionRecordReader.ReadFile(Path.Combine(proxy.Dir, "log", "smtpd.jsonl")).ToArray();
            Assert.Equal(2, records.Length);
            Assert.All(records, r => Assert.Equal(PolicyStage.Mail, r.Stage));
            Assert.Equal(2000000, records[0].Size);
            Assert.Equal("<a@b.example>", records[0].From);
            Assert.True(records[1].SmtpUtf8);
            Assert.All(records, r => Assert.Equal(1000000, r.Downstream.MaxSize));
            Assert.All(records, r => Assert.False(r.Downstream.SmtpUtf8));

            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(proxy.RulesPath)), ProxyRuntime.PolicyOptionsFor(proxy.Proxy.Options));
            foreach (var record in records)
            {
                var outcome = await DecisionReplay.RunAsync(record, pipeline);
                Assert.True(outcome.SameReplies, "replay: " + string.Join(" / ", outcome.Verdict.Replies) + ", proxy: " + string.Join(" / ", record.Replies));
            }
            // The limits are what decided: without them the same commands are taken.
            records[0].Downstream = DownstreamLimits.Unknown;
            Assert.Equal(VerdictKind.Continue, (await DecisionReplay.RunAsync(records[0], pipeline)).Verdict.Kind);
        }

        [Fact]
        public void A_record_with_the_downstreams_limits_reads_back_from_its_log_line()
        {
            var limits = new DownstreamLimits(1000000, false, true, new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero), "mail.test:25");
            var record = new DecisionRecord
            {
                Stage = PolicyStage.Mail, Kind = VerdictKind.Reject, Replies = new[] { "552 5.3.4 too big" }, ClientAddress = "192.0.2.1",
                From = "<a@b.test>", Size = 2000000, Downstream = limits, RulesPath = "rules",
            };
            var line = Engine.Diagnostics.JsonLinesLog.Format(new Engine.Diagnostics.ProxyEvent("decision", null, null, "m", record.ToData()));

            var back = DecisionRecordReader.FromLine(line);

            Assert.Equal(2000000, back.Size);
            Assert.True(back.Downstream.SameAs(limits), back.Downstream.ToString());
            Assert.Equal(limits.LearnedAt, back.Downstream.LearnedAt);
            Assert.Equal("mail.test:25", back.Downstream.Detail);
            // Nothing known is written as nothing, and read back as not known.
            record.Downstream = DownstreamLimits.Unknown;
            var unknown = Engine.Diagnostics.JsonLinesLog.Format(new Engine.Diagnostics.ProxyEvent("decision", null, null, "m", record.ToData()));
            Assert.Contains("\"downstream\":null", unknown);
            Assert.False(DecisionRecordReader.FromLine(unknown).Downstream.IsKnown);
        }

        [Fact]
        public async Task Test_SmtpdRules_tester_decides_with_the_smart_hosts_limits_it_is_given()
        {
            using var tester = new RuleTester(RuleSet.Parse("allow:ALL:ALL:ALL\n"));
            var request = new RuleTestRequest
            {
                ClientAddress = System.Net.IPAddress.Parse("192.0.2.7"), ClientName = "", HostName = "mx.test",
                From = "<a@example.org>", To = new[] { "<ü@example.test>" },
                SmartHostLimits = new DownstreamLimits(1000000, false, true, DateTimeOffset.UtcNow, "mail.test:25"),
            };

            var result = await tester.RunAsync(request);

            var ehlo = result.Stages.Single(s => s.Stage == PolicyStage.Helo).Replies;
            Assert.Contains("250-SIZE 1000000", ehlo);
            Assert.DoesNotContain(ehlo, l => l.Contains("SMTPUTF8"));
            Assert.StartsWith("555 5.5.4", result.Stages.Single(s => s.Stage == PolicyStage.Mail).Replies[0]);

            request.SmartHostLimits = null;
            var own = await tester.RunAsync(request);
            Assert.Contains("250-SIZE " + Own, own.Stages.Single(s => s.Stage == PolicyStage.Helo).Replies);
            Assert.StartsWith("250", own.Stages.Single(s => s.Stage == PolicyStage.Mail).Replies[0]);
        }
    }
}
