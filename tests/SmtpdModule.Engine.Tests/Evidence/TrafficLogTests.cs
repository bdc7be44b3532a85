using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Evidence
{
    /// <summary>
    /// The entry point: the format told from the first lines, files read while another writer holds
    /// them, records streamed as the file is read, the fixture logs the Pester tests replay, and an
    /// imported record decided again with the client name it had and no DNS.
    /// </summary>
    public class TrafficLogTests
    {
        static readonly string Postfix = RepoPaths.Fixture("traffic-logs", "postfix-maillog.txt");
        static readonly string Exchange = RepoPaths.Fixture("traffic-logs", "exchange-msgtrk.log");

        [Fact]
        public void The_format_is_told_from_the_first_lines()
        {
            Assert.Equal(TrafficLogFormat.Postfix, TrafficLog.Detect(Postfix));
            Assert.Equal(TrafficLogFormat.ExchangeTracking, TrafficLog.Detect(Exchange));

            var dir = Directory.CreateTempSubdirectory("traffic-log-");
            try
            {
                var json = Path.Combine(dir.FullName, "smtpd.jsonl");
                File.WriteAllText(json, "\n{\"event\":\"connect\",\"v\":1}\n");
                Assert.Equal(TrafficLogFormat.Smtpd, TrafficLog.Detect(json));

                // Other daemons' lines come first in a shared maillog.
                var mixed = Path.Combine(dir.FullName, "maillog");
                File.WriteAllText(mixed, "Dec  7 00:55:01 mx1 dovecot[900]: master: Dovecot v2.3 starting up\n" + File.ReadAllText(Postfix));
                Assert.Equal(TrafficLogFormat.Postfix, TrafficLog.Detect(mixed));

                var other = Path.Combine(dir.FullName, "access.log");
                File.WriteAllText(other, "192.0.2.1 - - [07/Dec/2026:00:55:07 +0000] \"GET / HTTP/1.1\" 200 12\n");
                var ex = Assert.Throws<FormatException>(() => TrafficLog.Read(other).ToList());
                Assert.Contains("Cannot tell the format of " + other, ex.Message);
                File.WriteAllText(other, "");
                Assert.Throws<FormatException>(() => TrafficLog.Detect(other));
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void The_postfix_fixture_gives_the_three_records_the_module_tests_replay()
        {
            var stats = new TrafficLogStats();
            var records = TrafficLog.Read(Postfix, options: new TrafficLogOptions { Stats = stats }).ToArray();

            Assert.Equal(new[]
            {
                "2026-12-06T08:14:02.5301120+00:00 4QmZ1k2Xz3z9vN Rcpt Continue [250 2.1.5 Recipient OK] 192.0.2.10 mail.partner.example - <news@partner.example> <alice@example.test>",
                "2026-12-06T08:20:42.3770510+00:00 - Rcpt Reject [554 5.7.1 <victim@elsewhere.example>: Relay access denied] 198.51.100.7 - bulk.example <spam@bulk.example> <victim@elsewhere.example>",
                "2026-12-06T08:47:56.1184020+00:00 4QmZHw5Tbkz9vS Rcpt Continue [250 2.1.5 Recipient OK] 203.0.113.5 mx.bulk.example - <promo@bulk.example> <bob@example.test>",
            }, records.Select(Describe).ToArray());
            Assert.Equal(3, stats.Records);
            Assert.Equal(0, stats.Skipped);
        }

        [Fact]
        public void The_exchange_fixture_gives_the_three_records_the_module_tests_replay()
        {
            var records = TrafficLog.Read(Exchange).ToArray();

            Assert.Equal(new[]
            {
                "2026-12-06T08:14:02.5300000+00:00 <20261206081401.A1B2C3@partner.example> Rcpt Continue [250 2.1.5 Recipient OK] 192.0.2.10 - mail.partner.example <news@partner.example> <alice@example.test>",
                "2026-12-06T08:20:42.3770000+00:00 <x9f2.20261206@bulk.example> Rcpt Continue [250 2.1.5 Recipient OK] 198.51.100.7 - bulk.example <spam@bulk.example> <victim@example.test>",
                "2026-12-06T08:47:56.1180000+00:00 <promo-7781.20261206@bulk.example> Rcpt Continue [250 2.1.5 Recipient OK] 203.0.113.5 - mx.bulk.example <promo@bulk.example> <bob@example.test>",
            }, records.Select(Describe).ToArray());
        }

        static string Describe(DecisionRecord r) =>
            r.Time.ToString("o") + " " + (r.Session ?? "-") + " " + r.Stage + " " + r.Kind + " [" + string.Join(" / ", r.Replies) + "] "
            + r.ClientAddress + " " + (r.ClientName ?? "-") + " " + (r.Helo ?? "-") + " " + r.From + " " + r.To;

        [Fact]
        public void A_log_another_writer_holds_open_is_read()
        {
            var dir = Directory.CreateTempSubdirectory("traffic-log-");
            try
            {
                var path = Path.Combine(dir.FullName, "maillog");
                using var writer = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
                var bytes = File.ReadAllBytes(Postfix);
                writer.Write(bytes, 0, bytes.Length);
                writer.Flush();

                Assert.Equal(3, TrafficLog.Read(path, TrafficLogFormat.Postfix).Count());
            }
            finally { dir.Delete(true); }
        }

        [Fact]
        public void Records_stream_as_the_log_is_read()
        {
            // A reader that fails after its first lines: the records before the failure have already been given out.
            var lines = File.ReadAllLines(Postfix).Take(9);
            var reader = new FailingReader(string.Join("\n", lines) + "\n");
            var got = new List<DecisionRecord>();

            Assert.Throws<IOException>(() => { foreach (var r in TrafficLog.Read(reader)) got.Add(r); });

            Assert.Equal(new[] { "<alice@example.test>", "<victim@elsewhere.example>" }, got.Select(r => r.To).ToArray());
        }

        sealed class FailingReader : TextReader
        {
            readonly StringReader _inner;
            public FailingReader(string text) { _inner = new StringReader(text); }
            public override string ReadLine() => _inner.ReadLine() ?? throw new IOException("disk gone");
        }

        [Fact]
        public void The_proxys_own_log_reads_through_the_decision_record_reader()
        {
            var record = new DecisionRecord
            {
                Time = new DateTimeOffset(2026, 12, 7, 0, 55, 7, TimeSpan.Zero), Session = "s-1", Stage = PolicyStage.Rcpt, Kind = VerdictKind.Continue,
                Replies = new[] { "250 2.1.5 Recipient OK" }, ClientAddress = "192.0.2.10", From = "<a@b.test>", To = "<c@d.test>",
            };
            var line = Engine.Diagnostics.JsonLinesLog.Format(new Engine.Diagnostics.ProxyEvent("decision", record.Session, record.ClientAddress, "m", record.ToData()));

            var back = Assert.Single(TrafficLog.Read(new StringReader("{\"event\":\"connect\",\"v\":1}\n" + line + "\n")));

            Assert.Equal("<c@d.test>", back.To);
            Assert.Equal("s-1", back.Session);
        }

        [Fact]
        public async Task An_imported_postfix_record_replays_with_the_client_name_it_had_and_no_DNS()
        {
            var record = TrafficLog.Read(Postfix).First();
            var rules = RuleSet.Parse("noto:mail.partner.example:ALL:ALL:550 5.7.1 not from %H\nallow:ALL:ALL:ALL\n", "candidate");
            var pipeline = new PolicyPipeline(new RuleEvaluator(rules), new PolicyOptions { HostName = "mx.example.test" });
            var network = new NoNetwork();

            var outcome = await DecisionReplay.RunAsync(record, pipeline, network);

            Assert.Equal(VerdictKind.Reject, outcome.Verdict.Kind);
            Assert.Equal(1, outcome.Verdict.LineNumber);
            Assert.Empty(network.Asked);
            Assert.DoesNotContain(outcome.Unrecorded, q => q.StartsWith("Dns", StringComparison.Ordinal));

            // The unknown client of the refusal has no name, and that too is decided without DNS.
            var refused = TrafficLog.Read(Postfix).ElementAt(1);
            var open = new PolicyPipeline(new RuleEvaluator(RuleSet.Parse("allow:UNKNOWN:ALL:ALL\nnoto:ALL:ALL:ALL\n", "candidate")), new PolicyOptions());
            var again = await DecisionReplay.RunAsync(refused, open, network);
            Assert.Equal(VerdictKind.Continue, again.Verdict.Kind);
            Assert.Equal(1, again.Verdict.LineNumber);
            Assert.Empty(network.Asked);
        }

        /// <summary>The fallback a replay must not need: it notes every DNS question.</summary>
        sealed class NoNetwork : IFacts
        {
            public List<string> Asked { get; } = new List<string>();
            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                lock (Asked) Asked.Add(name + " " + type);
                return Task.FromResult(DnsAnswer.Failed("no network in this test"));
            }
            public Task<IdentAnswer> QueryAsync(CancellationToken cancellationToken = default) => Task.FromResult(IdentAnswer.Failure("no network"));
            public Task<string> ReadStateAsync(string key, CancellationToken cancellationToken = default) => Task.FromResult<string>(null);
            public Task<long> CountAsync(string key, long delta, TimeSpan window, CancellationToken cancellationToken = default) => Task.FromResult(delta);
        }
    }
}
