using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// The protocol tests inside the session (postscreen's pregreet, pipelining, non-SMTP and bare
    /// newline tests) through a running proxy: hostile clients from a raw python socket, honest ones
    /// from smtplib, swaks and MailKit.
    /// </summary>
    public class ProtocolTestTests
    {
        static readonly TimeSpan Wait = TimeSpan.FromSeconds(1);

        static Action<SmtpProxyOptions> Tests(ProtocolTestAction pregreet = ProtocolTestAction.Ignore, ProtocolTestAction pipelining = ProtocolTestAction.Ignore,
                                             ProtocolTestAction nonSmtp = ProtocolTestAction.Enforce, ProtocolTestAction bareNewline = ProtocolTestAction.Ignore,
                                             IStateStore state = null, string[] exempt = null) => o =>
        {
            o.ProtocolTests.PregreetAction = pregreet;
            o.ProtocolTests.PipeliningAction = pipelining;
            o.ProtocolTests.NonSmtpAction = nonSmtp;
            o.ProtocolTests.BareNewlineAction = bareNewline;
            o.ProtocolTests.GreetWait = Wait;
            if (exempt != null) o.ProtocolTests.Exempt = exempt.ToList();
            if (state != null) o.StateStore = state;
        };

        static async Task<(string[] Replies, bool Closed)> ProbeAsync(TestProxy proxy, bool untilClose, params (string Send, int Replies)[] steps)
        {
            var (json, run) = await ExternalClient.PythonAsync("protocol_probe.py", new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                timeout = 10,
                until_close = untilClose,
                steps = steps.Select(s => new { send = s.Send, replies = s.Replies }).ToArray(),
            });
            var replies = json.GetProperty("replies").EnumerateArray().Select(r => r.GetString()).ToArray();
            return (replies, json.GetProperty("closed").GetBoolean());
        }

        static object Get(ProxyEvent e, string key) => e.Data.FirstOrDefault(kv => kv.Key == key).Value;

        static ProxyEvent[] Protocol(TestProxy proxy, string test) =>
            proxy.Events.Where(e => e.Kind == "protocol" && Equals(Get(e, "test"), test)).ToArray();

        [Fact]
        public async Task A_pregreeting_client_reads_the_teaser_and_is_refused_at_rcpt_with_enforce()
        {
            using var proxy = TestProxy.Start(configure: Tests(pregreet: ProtocolTestAction.Enforce));

            // EHLO right after the connect, before any greeting line.
            var (replies, closed) = await ProbeAsync(proxy, true,
                ("EHLO pregreet.example\r\n", 2), ("MAIL FROM:<a@example.org>\r\n", 1), ("RCPT TO:<b@example.test>\r\n", 1));

            Assert.True(replies.Length >= 4, string.Join(" | ", replies) + "\n" + proxy.Log);
            Assert.StartsWith("220-mx.example.test", replies[0]);
            Assert.Contains("\n220 mx.example.test", replies[0]);
            Assert.StartsWith("250", replies[1]);
            Assert.StartsWith("250", replies[2]);
            Assert.StartsWith("521 5.5.1 Protocol error: pregreet", replies[3]);
            Assert.True(closed, "the session stays open after the enforced refusal");
            Assert.Single(Protocol(proxy, "pregreet"));
            var decision = proxy.Events.Single(e => e.Kind == "decision");
            Assert.Contains("pregreet", (IEnumerable<string>)Get(decision, "failed"));
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task The_rules_decide_on_FAILED_pregreet_and_a_replay_of_the_record_decides_the_same()
        {
            // Action Ignore: the test runs only because a rule names it, and nothing is logged as a protocol event.
            using var proxy = TestProxy.Start("noto:FAILED=pregreet:ALL:ALL\nallow:ALL:ALL:ALL\n", Tests());

            var (replies, _) = await ProbeAsync(proxy, false,
                ("EHLO pregreet.example\r\n", 2), ("MAIL FROM:<a@example.org>\r\n", 1), ("RCPT TO:<b@example.test>\r\n", 1));

            Assert.StartsWith("550", replies[3]);
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "protocol");
            var logged = proxy.Events.Single(e => e.Kind == "decision");
            Assert.Equal(1, Get(logged, "line"));
            var record = new DecisionRecord
            {
                Stage = PolicyStage.Rcpt, ClientAddress = "127.0.0.1", Helo = "pregreet.example", Esmtp = true,
                From = "<a@example.org>", To = "<b@example.test>", FailedTests = ((IEnumerable<string>)Get(logged, "failed")).ToList(),
            };
            var pipeline = new PolicyPipeline(new RuleEvaluator(RuleSet.Load(proxy.RulesPath)), new PolicyOptions { HostName = "mx.example.test", ReverseLookup = false });
            var again = await DecisionReplay.RunAsync(record, pipeline);
            Assert.Equal(1, again.Verdict.Decision.LineNumber);
            record.FailedTests = new string[0];
            var clean = await DecisionReplay.RunAsync(record, pipeline);
            Assert.Equal(RuleAction.Allow, clean.Verdict.Decision.Action);
        }

        [Fact]
        public async Task A_client_pipelining_after_helo_fails_the_pipelining_test_and_is_refused_at_rcpt()
        {
            using var proxy = TestProxy.Start(configure: Tests(pipelining: ProtocolTestAction.Enforce));

            var (replies, closed) = await ProbeAsync(proxy, true,
                ("", 1), ("HELO early.example\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\n", 3));

            Assert.True(replies.Length >= 4, string.Join(" | ", replies) + "\n" + proxy.Log);
            Assert.StartsWith("220 ", replies[0]);   // no pregreet test: the plain one-line greeting
            Assert.StartsWith("250", replies[1]);
            Assert.StartsWith("250", replies[2]);
            Assert.StartsWith("521 5.5.1 Protocol error: pipelining", replies[3]);
            Assert.True(closed);
            Assert.Single(Protocol(proxy, "pipelining"));
        }

        [Fact]
        public async Task An_http_request_is_answered_521_and_closed_by_default()
        {
            using var proxy = TestProxy.Start();

            var (replies, closed) = await ProbeAsync(proxy, true, ("", 1), ("GET / HTTP/1.0\r\n\r\n", 1));

            Assert.StartsWith("220 ", replies[0]);
            Assert.StartsWith("521 5.5.1 Protocol error: non-smtp", replies[1]);
            Assert.True(closed);
            Assert.Single(Protocol(proxy, "non-smtp"));
        }

        [Fact]
        public async Task An_exempt_network_runs_no_test()
        {
            using var proxy = TestProxy.Start(configure: Tests(pregreet: ProtocolTestAction.Enforce, exempt: new[] { "127.0.0.0/8" }));

            var (replies, closed) = await ProbeAsync(proxy, false, ("GET / HTTP/1.0\r\n", 2), ("QUIT\r\n", 1));

            Assert.StartsWith("220 ", replies[0]);                  // no teaser
            Assert.StartsWith("500 5.5.1", replies[1]);            // an unknown command, no more
            Assert.StartsWith("221", replies[2]);
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "protocol");
        }

        [Fact]
        public async Task A_command_ending_in_a_bare_newline_is_logged_with_action_log()
        {
            using var proxy = TestProxy.Start(configure: Tests(bareNewline: ProtocolTestAction.Log));

            var (replies, _) = await ProbeAsync(proxy, false, ("", 1), ("EHLO lf.example\n", 1), ("QUIT\r\n", 1));

            Assert.StartsWith("250", replies[1]);
            Assert.StartsWith("221", replies[2]);
            Assert.Single(Protocol(proxy, "bare-newline"));
        }

        [Fact]
        public async Task Honest_clients_pass_every_enforced_test_and_their_mail_is_spooled()
        {
            var state = new MemoryStateStore();
            using var proxy = TestProxy.Start(configure: Tests(ProtocolTestAction.Enforce, ProtocolTestAction.Enforce, ProtocolTestAction.Enforce,
                                                               ProtocolTestAction.Enforce, state));

            var clock = Stopwatch.StartNew();
            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", new
            {
                host = "127.0.0.1", port = proxy.EndPoint.Port, helo = "client.example.test", timeout = 10,
                from = "a@example.org", to = new[] { "b@example.test" }, message = "Subject: smtplib\r\n\r\nhello\r\n",
                mail_options = Array.Empty<string>(),
            });
            var first = clock.Elapsed;
            Assert.True(result.GetProperty("result").GetString() == "sent", run.ToString() + "\n" + proxy.Log);
            // The first connection paid the greet wait; it is now remembered.
            Assert.True(first >= Wait, "the first connection took " + first);
            Assert.NotNull(await state.GetAsync("pass:127.0.0.1"));

            var swaks = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--pipeline", "--from", "c@example.org", "--to", "d@example.test,e@example.test", "--data", "Subject: swaks\\n\\npipelined after EHLO",
            });
            Assert.True(swaks.ExitCode == 0, swaks.ToString() + "\n" + proxy.Log);
            // Remembered: the plain one-line greeting. Matched as swaks shows a received line, since a
            // spool id in a later reply can hold "220-" too (a time of day such as 01:22:20).
            Assert.Contains("<-  220 ", swaks.Stdout);
            Assert.DoesNotContain("<-  220-", swaks.Stdout);

            using (var mailkit = new SmtpClient { LocalDomain = "mailkit.example.test" })
            {
                await mailkit.ConnectAsync("127.0.0.1", proxy.EndPoint.Port, SecureSocketOptions.None);
                Assert.True(mailkit.Capabilities.HasFlag(SmtpCapabilities.Pipelining));
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("f@example.org"));
                message.To.Add(MailboxAddress.Parse("g@example.test"));
                message.To.Add(MailboxAddress.Parse("h@example.test"));
                message.Subject = "mailkit";
                message.Body = new TextPart("plain") { Text = "pipelined by MailKit" };
                await mailkit.SendAsync(message);
                await mailkit.DisconnectAsync(true);
            }

            var spooled = proxy.Spooled();
            Assert.True(spooled.Count == 3, "spooled " + spooled.Count + "\n" + proxy.Log);
            Assert.Equal(new[] { "<a@example.org>", "<c@example.org>", "<f@example.org>" }, spooled.Select(s => s.Envelope.From).OrderBy(f => f));
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "protocol");
        }

        [Fact]
        public async Task A_remembered_client_gets_the_plain_greeting_and_is_forgotten_when_it_fails_a_test()
        {
            var state = new MemoryStateStore();
            using var proxy = TestProxy.Start(configure: Tests(ProtocolTestAction.Log, ProtocolTestAction.Log, state: state));

            var (first, _) = await ProbeAsync(proxy, false, ("", 1), ("QUIT\r\n", 1));
            Assert.StartsWith("220-", first[0]);
            Assert.NotNull(await state.GetAsync("pass:127.0.0.1"));

            // Remembered: no teaser, no wait. Then it pipelines in a HELO session: logged, and forgotten.
            var (second, _) = await ProbeAsync(proxy, false, ("", 1), ("HELO a.example\r\n", 1), ("NOOP\r\nNOOP\r\n", 2), ("QUIT\r\n", 1));
            Assert.StartsWith("220 ", second[0]);
            Assert.Single(Protocol(proxy, "pipelining"));
            Assert.Null(await state.GetAsync("pass:127.0.0.1"));

            var (third, _) = await ProbeAsync(proxy, false, ("", 1), ("QUIT\r\n", 1));
            Assert.StartsWith("220-", third[0]);
        }

        [Fact]
        public void FAILED_with_an_unknown_test_is_refused_at_load_with_its_column()
        {
            var result = RuleFileParser.Parse("allow:ALL:ALL:ALL\ndeny:127.0.0.1 FAILED=pregret:ALL:ALL\n", "rules");
            var d = Assert.Single(result.Diagnostics, x => x.Code == RuleDiagnosticCodes.UnknownProtocolTest);
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Equal(2, d.Line);
            Assert.Equal(23, d.Column);   // the name after FAILED=
            Assert.Contains("pregreet, pipelining, non-smtp, bare-newline or ANY", d.Message);
        }

        [Theory]
        [InlineData("FAILED=pipelining", "pipelining", true)]
        [InlineData("FAILED=ANY", "bare-newline", true)]
        [InlineData("FAILED=non-smtp", "pregreet", false)]
        [InlineData("ALL EXCEPT FAILED=pregreet", "pregreet", false)]
        [InlineData("ALL EXCEPT FAILED=pregreet", null, true)]
        public async Task The_rule_tester_takes_the_failed_tests_and_explains_them(string source, string failed, bool matches)
        {
            using var tester = new RuleTester(RuleSet.Parse("noto:" + source + ":ALL:ALL\nallow:ALL:ALL:ALL\n", "rules"));
            Assert.Empty(tester.RuleSet.Diagnostics);
            ProtocolTestNames.TryParse(failed ?? "x", out var tests);
            var decisions = await tester.TestAsync(new RuleTestRequest
            {
                ClientAddress = System.Net.IPAddress.Parse("192.0.2.7"), ClientName = "", From = "<a@example.org>", To = new[] { "<b@example.test>" },
                FailedTests = tests, Explain = true,
            });
            var d = Assert.Single(decisions);
            Assert.Equal(matches ? RuleAction.Noto : RuleAction.Allow, d.Action);
            Assert.Contains("failed protocol tests: " + (failed ?? "none"), d.Explanation[0].Note);
        }

        [Theory]
        [InlineData("GET / HTTP/1.0", true)]
        [InlineData("post /cgi-bin/x HTTP/1.1", true)]
        [InlineData("CONNECT mx.example:25 HTTP/1.0", true)]
        [InlineData("Subject: hello", true)]
        [InlineData("X-Mailer:thing", true)]
        [InlineData("MAIL FROM:<a@example.org>", false)]
        [InlineData("RCPT TO:<b@example.test>", false)]
        [InlineData("MAIL:<a@example.org>", false)]
        [InlineData("EHLO client.example", false)]
        [InlineData("", false)]
        [InlineData(":x", false)]
        public void Non_smtp_commands_are_http_verbs_and_header_lines(string line, bool nonSmtp) =>
            Assert.Equal(nonSmtp, NonSmtpCommand.IsNonSmtp(line));
    }
}
