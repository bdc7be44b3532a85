using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// Open-relay probes with smtplib against the shipped examples/smtpd_check_rules. The client binds
    /// its source to 127.0.0.2, a stranger under those rules (only 127.0.0.1 and ::1 are the local
    /// network). The probes are data (tests/fixtures/smtp/relay-probes.txt, and any files named by
    /// SMTPD_EXTRA_RELAY_PROBES), so more can be added without touching this code. Every probe runs
    /// twice: with the proxy's own refusal of routed addresses (553), and without it, where the
    /// rules alone must refuse.
    /// </summary>
    public class RelayProbeTests
    {
        const string Stranger = "127.0.0.2";
        const string Message = "Subject: relay probe\r\n\r\nIf this is in the spool, the proxy relayed it.\r\n";
        readonly ITestOutputHelper _output;

        public RelayProbeTests(ITestOutputHelper output) => _output = output;

        static string ExampleRules() => File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "smtpd_check_rules"));

        static TestProxy Start(bool strictAddresses) => TestProxy.Start(ExampleRules(), o => o.StrictAddresses = strictAddresses);

        /// <summary>The probe files: senders ("from: " lines) and recipients (every other line).</summary>
        static (List<string> Senders, List<string> Recipients) ReadProbes()
        {
            var files = new List<string> { RepoPaths.Fixture("smtp", "relay-probes.txt") };
            var extra = Environment.GetEnvironmentVariable("SMTPD_EXTRA_RELAY_PROBES");
            if (!string.IsNullOrEmpty(extra))
                files.AddRange(extra.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
            var senders = new List<string>();
            var recipients = new List<string>();
            foreach (var file in files)
            {
                if (!File.Exists(file)) throw new Xunit.Sdk.XunitException("relay probe file not found: " + file + " (from SMTPD_EXTRA_RELAY_PROBES?)");
                foreach (var raw in File.ReadAllText(file, Encoding.UTF8).Split('\n'))
                {
                    var line = raw.TrimEnd('\r');
                    if (line.Length == 0 || line[0] == '#') continue;
                    if (line.StartsWith("from: ", StringComparison.Ordinal)) senders.Add(line.Substring(6));
                    else recipients.Add(line);
                }
            }
            Assert.NotEmpty(senders);
            Assert.NotEmpty(recipients);
            return (senders, recipients);
        }

        sealed class Probe
        {
            public string From, To, Error;
            public int? Mail, Rcpt, Data;
            public string RcptText;

            public override string ToString() =>
                "MAIL FROM:" + From + " -> " + (Mail?.ToString() ?? "-") + "; RCPT TO:" + To + " -> " + (Rcpt?.ToString() ?? "-") + " " + RcptText
                + (Data != null ? "; DATA -> " + Data : "") + (Error != null ? "; " + Error : "");
        }

        static async Task<List<Probe>> RunAsync(TestProxy proxy, string source, IEnumerable<(string From, string To)> pairs)
        {
            var (json, run) = await ExternalClient.PythonAsync("relay_probe.py", new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                source,
                helo = "probe.example.test",
                timeout = 10,
                message = Message,
                probes = pairs.Select(p => new { from = p.From, to = p.To }).ToArray(),
            }, timeoutMs: 60000);
            return json.GetProperty("results").EnumerateArray().Select(r => new Probe
            {
                From = r.GetProperty("from").GetString(),
                To = r.GetProperty("to").GetString(),
                Mail = Code(r.GetProperty("mail")),
                Rcpt = Code(r.GetProperty("rcpt")),
                RcptText = r.GetProperty("rcpt").ValueKind == JsonValueKind.Array ? r.GetProperty("rcpt")[1].GetString() : null,
                Data = Code(r.GetProperty("data")),
                Error = r.GetProperty("error").GetString(),
            }).ToList();
        }

        static int? Code(JsonElement reply) => reply.ValueKind == JsonValueKind.Array ? reply[0].GetInt32() : (int?)null;

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public async Task Every_relay_probe_from_a_stranger_is_refused_at_RCPT_and_nothing_is_spooled(bool strictAddresses)
        {
            var (senders, recipients) = ReadProbes();
            using var proxy = Start(strictAddresses);

            var results = await RunAsync(proxy, Stranger, senders.SelectMany(f => recipients.Select(t => (f, t))));

            Assert.Equal(senders.Count * recipients.Count, results.Count);
            foreach (var group in results.GroupBy(r => r.Rcpt + " " + (r.RcptText ?? "").Split(' ').FirstOrDefault()).OrderBy(g => g.Key))
                _output.WriteLine(group.Count() + " x " + group.Key + "  e.g. RCPT TO:" + group.First().To);
            var failures = results.Where(r => r.Error != null || r.Mail != 250 || r.Rcpt == null || r.Rcpt < 500 || r.Rcpt > 599 || r.Data != null).ToList();
            Assert.True(failures.Count == 0, failures.Count + " of " + results.Count + " probes were not refused at RCPT with a 5xx:\n"
                                              + string.Join("\n", failures) + "\nserver log:\n" + proxy.Log);
            if (!strictAddresses)
                Assert.DoesNotContain(results, r => r.RcptText != null && r.RcptText.StartsWith("5.1.3 Source routes"));
            Assert.Empty(proxy.Spooled());
        }

        [Theory]
        [InlineData(true)]
        [InlineData(false)]
        public async Task A_stranger_may_send_to_example_test_and_its_subdomains(bool strictAddresses)
        {
            using var proxy = Start(strictAddresses);
            var pairs = new[]
            {
                ("<>", "<u@example.test>"),
                ("<x@far.test>", "<u@example.test>"),
                ("<x@far.test>", "<u@sub.example.test>"),
                ("<x@far.test>", "<u@deep.sub.example.test>"),
                ("<x@far.test>", "<u@EXAMPLE.TEST>"),
                ("<x@far.test>", "<U@Sub.Example.Test>"),
                ("<u@example.test>", "<postmaster@example.test>"),
            };

            var results = await RunAsync(proxy, Stranger, pairs);

            var failures = results.Where(r => r.Rcpt != 250 || r.Data != 250).ToList();
            Assert.True(failures.Count == 0, "legitimate mail refused:\n" + string.Join("\n", failures) + "\nserver log:\n" + proxy.Log);
            var spooled = proxy.Spooled();
            Assert.Equal(pairs.Select(p => p.Item1 + " " + p.Item2).OrderBy(s => s, StringComparer.Ordinal),
                spooled.Select(m => m.Envelope.From + " " + Assert.Single(m.Envelope.Recipients).Address).OrderBy(s => s, StringComparer.Ordinal));
            Assert.All(spooled, m => Assert.Equal(Stranger, m.Envelope.ClientAddress));
        }

        // The shipped rules catch these with their *%*@* and *!*@* tokens (see the probe list); this
        // is about the proxy's own check, which should not depend on the rules having those lines.
        [Theory]
        [InlineData("<\"u%far.test\"@example.test>")]
        [InlineData("<\"far.test!u\"@example.test>")]
        public async Task Strict_addresses_refuse_a_percent_hack_or_bang_path_hidden_in_quotes(string to)
        {
            using var proxy = TestProxy.Start("allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL:550 5.7.1 relaying denied\n");

            var probe = Assert.Single(await RunAsync(proxy, Stranger, new[] { ("<u@example.org>", to) }));

            Assert.True(probe.Rcpt == 553, probe + "\nserver log:\n" + proxy.Log);
            Assert.StartsWith("5.1.3 ", probe.RcptText);
            Assert.Empty(proxy.Spooled());
        }

        [Theory]
        [InlineData("u@far.test", "550 5.7.1 <u@far.test>: relaying denied for 127.0.0.2")]
        [InlineData("u%far.test@example.test", "553 5.1.3 ")]
        public async Task Swaks_from_a_stranger_is_refused_at_RCPT(string to, string reply)
        {
            using var proxy = Start(strictAddresses: true);

            var run = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--local-interface", Stranger, "--from", "u@example.test", "--to", to, "--data", "Subject: probe\\n\\nrelay me",
            });

            Assert.True(run.ExitCode != 0, "swaks reported success:\n" + run);
            Assert.Contains("<** " + reply, run.Stdout);
            Assert.DoesNotContain(" -> DATA", run.Stdout);
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task The_local_network_may_send_anywhere()
        {
            using var proxy = Start(strictAddresses: true);
            var pairs = new[]
            {
                ("<u@example.test>", "<v@far.test>"),
                ("<>", "<postmaster@far.test>"),
                ("<x@elsewhere.test>", "<u@FAR.TEST>"),
                ("<u@example.test>", "<u@[192.0.2.1]>"),
            };

            var results = await RunAsync(proxy, "127.0.0.1", pairs);

            var failures = results.Where(r => r.Rcpt != 250 || r.Data != 250).ToList();
            Assert.True(failures.Count == 0, "mail from 127.0.0.1 refused:\n" + string.Join("\n", failures) + "\nserver log:\n" + proxy.Log);
            var spooled = proxy.Spooled();
            Assert.Equal(pairs.Length, spooled.Count);
            Assert.All(spooled, m => Assert.Equal("127.0.0.1", m.Envelope.ClientAddress));
        }
    }
}
