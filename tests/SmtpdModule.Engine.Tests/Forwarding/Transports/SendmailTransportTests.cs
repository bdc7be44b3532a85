using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Tests.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>SendmailTransport running tests/fixtures/downstream/fake_sendmail.py, which records
    /// its arguments and input and exits as the test tells it.</summary>
    public sealed class SendmailTransportTests : IDisposable
    {
        readonly string _control = Path.Combine(Path.GetTempPath(), "smtpd-sendmail-" + Guid.NewGuid().ToString("N"));

        public SendmailTransportTests() => Directory.CreateDirectory(_control);

        public void Dispose()
        {
            try { Directory.Delete(_control, recursive: true); }
            catch (IOException) { }
        }

        SendmailTransport Transport(object behaviour = null, Action<SendmailTransportOptions> configure = null)
        {
            if (behaviour != null) File.WriteAllText(Path.Combine(_control, "behaviour.json"), JsonSerializer.Serialize(behaviour));
            var options = new SendmailTransportOptions { ProgramPath = ExternalClient.Find("python3", "SMTPD_TEST_PYTHON") };
            options.ExtraArguments.Add(RepoPaths.Fixture("downstream", "fake_sendmail.py"));
            options.ExtraArguments.Add(_control);
            configure?.Invoke(options);
            return new SendmailTransport(options);
        }

        (string[] Args, int Pid, byte[] Stdin) Run(int n)
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(_control, "run-" + n + ".json")));
            var args = doc.RootElement.GetProperty("args").EnumerateArray().Select(e => e.GetString()).ToArray();
            return (args, doc.RootElement.GetProperty("pid").GetInt32(), File.ReadAllBytes(Path.Combine(_control, "run-" + n + ".stdin")));
        }

        int Runs => Directory.GetFiles(_control, "run-*.json").Length;

        [UnixFact]
        public async Task Runs_the_program_with_sendmail_arguments_and_the_message_on_stdin()
        {
            using var transport = Transport();
            var body = TestMessages.Awkward();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", "b@example.com", "-oQ/x@example.com", "c d@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((DeliveryOutcome.Delivered, "2.0.0", "x-unix"), (r.Outcome, r.Status, r.DiagnosticType)));
            Assert.Equal("python3 exited with 0 (EX_OK)", result.Recipients[0].Diagnostic);
            Assert.Null(result.RemoteMta);
            var run = Run(1);
            Assert.Equal(new[] { "-oi", "-f", "a@example.org", "--", "b@example.com", "-oQ/x@example.com", "c d@example.com" }, run.Args);
            Assert.Equal(body, run.Stdin);
            Assert.Equal(1, Runs);
        }

        [UnixFact]
        public async Task The_null_sender_is_an_empty_argument()
        {
            using var transport = Transport();

            await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "", "b@example.com"));

            Assert.Equal(new[] { "-oi", "-f", "", "--", "b@example.com" }, Run(1).Args);
        }

        [UnixTheory]
        [InlineData(67, DeliveryOutcome.Failed, "5.1.1", "67 (EX_NOUSER)")]
        [InlineData(69, DeliveryOutcome.Deferred, "4.3.0", "69 (EX_UNAVAILABLE)")]
        [InlineData(71, DeliveryOutcome.Deferred, "4.3.0", "71 (EX_OSERR)")]
        [InlineData(72, DeliveryOutcome.Deferred, "4.3.0", "72 (EX_OSFILE)")]
        [InlineData(74, DeliveryOutcome.Deferred, "4.3.0", "74 (EX_IOERR)")]
        [InlineData(75, DeliveryOutcome.Deferred, "4.3.0", "75 (EX_TEMPFAIL)")]
        [InlineData(78, DeliveryOutcome.Deferred, "4.3.5", "78 (EX_CONFIG)")]
        [InlineData(65, DeliveryOutcome.Failed, "5.3.0", "65 (EX_DATAERR)")]
        [InlineData(1, DeliveryOutcome.Failed, "5.3.0", "1")]
        public async Task The_exit_status_decides(int code, DeliveryOutcome outcome, string status, string shown)
        {
            using var transport = Transport(new { exit = new[] { code }, stderr = "first complaint\nsecond line\n" });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com", "c@example.com"));

            Assert.All(result.Recipients, r => Assert.Equal((outcome, status), (r.Outcome, r.Status)));
            Assert.Equal("python3 exited with " + shown + ": first complaint", result.Recipients[0].Diagnostic);
            Assert.Equal("x-unix", result.Recipients[0].DiagnosticType);
        }

        [UnixFact]
        public async Task Many_recipients_go_in_runs_of_at_most_100_each_with_its_own_result()
        {
            using var transport = Transport(new { exit = new[] { 0, 75, 67 } });
            var recipients = Enumerable.Range(0, 250).Select(i => "r" + i + "@example.com").ToArray();
            var body = TestMessages.Simple();

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", recipients));

            Assert.Equal(3, Runs);
            Assert.Equal(recipients.Take(100), Run(1).Args.Skip(4));
            Assert.Equal(recipients.Skip(100).Take(100), Run(2).Args.Skip(4));
            Assert.Equal(recipients.Skip(200), Run(3).Args.Skip(4));
            Assert.All(new[] { 1, 2, 3 }, n => Assert.Equal(body, Run(n).Stdin));
            Assert.Equal(Enumerable.Range(0, 250), result.Recipients.Select(r => r.Recipient.Index));
            Assert.All(result.Recipients.Take(100), r => Assert.Equal(DeliveryOutcome.Delivered, r.Outcome));
            Assert.All(result.Recipients.Skip(100).Take(100), r => Assert.Equal(DeliveryOutcome.Deferred, r.Outcome));
            Assert.All(result.Recipients.Skip(200), r => Assert.Equal((DeliveryOutcome.Failed, "5.1.1"), (r.Outcome, r.Status)));
        }

        [UnixFact]
        public async Task A_run_past_the_timeout_is_killed_and_deferred()
        {
            // The deadline must leave python3 time to start and record its run even on a machine whose
            // cores are busy (1 s did not: the run was killed before it wrote its record).
            using var transport = Transport(new { hang = true }, o => o.Timeout = TimeSpan.FromSeconds(8));

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Contains("did not finish within 8 s", result.Recipients[0].Diagnostic);
            var pid = Run(1).Pid;
            await TestWait.UntilAsync(() => !IsRunning(pid));
        }

        [UnixFact]
        public async Task Cancelling_kills_the_program()
        {
            using var transport = Transport(new { hang = true });
            using var cancel = new CancellationTokenSource();

            var delivery = transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"), cancel.Token);
            await TestWait.UntilAsync(() => Runs == 1);
            cancel.Cancel();

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delivery);
            var pid = Run(1).Pid;
            await TestWait.UntilAsync(() => !IsRunning(pid));
        }

        [UnixFact]
        public async Task A_program_killed_by_a_signal_is_deferred()
        {
            using var transport = Transport(new { signal = 9 });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Equal("python3 was killed by signal 9", result.Recipients[0].Diagnostic);
        }

        [Fact]
        public async Task A_program_that_cannot_start_is_deferred()
        {
            using var transport = new SendmailTransport(new SendmailTransportOptions { ProgramPath = Path.Combine(_control, "no-such-sendmail") });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0", "x-local"), (result.Recipients[0].Outcome, result.Recipients[0].Status, result.Recipients[0].DiagnosticType));
            Assert.Contains("cannot run", result.Recipients[0].Diagnostic);
            Assert.Equal("sendmail:" + Path.Combine(_control, "no-such-sendmail"), transport.Target);
        }

        [UnixFact]
        public async Task A_program_that_exits_without_reading_a_large_message_is_judged_by_its_status()
        {
            using var transport = Transport(new { ignore_stdin = true, exit = new[] { 75 } });
            var body = Encoding.ASCII.GetBytes("Received: x\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('y', 998) + "\r\n", 4000)));

            var result = await transport.DeliverAsync(TestMessages.Create(body, "a@example.org", "b@example.com"));

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0"), (result.Recipients[0].Outcome, result.Recipients[0].Status));
            Assert.Contains("EX_TEMPFAIL", result.Recipients[0].Diagnostic);
        }

        [UnixFact]
        public async Task Lots_of_output_is_read_and_only_its_start_kept()
        {
            using var transport = Transport(new { stdout_bytes = 2_000_000, exit = new[] { 0 } });

            var result = await transport.DeliverAsync(TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com"));

            Assert.Equal(DeliveryOutcome.Delivered, result.Recipients[0].Outcome);
            Assert.InRange(result.Recipients[0].Diagnostic.Length, 40, 1200);
        }

        [UnixFact]
        public async Task An_unreadable_spool_file_defers_and_nothing_is_delivered()
        {
            using var transport = Transport(new { exit = new[] { 0 } });
            var good = TestMessages.Create(TestMessages.Simple(), "a@example.org", "b@example.com");
            var broken = new OutgoingMessage(good.Envelope, good.Recipients, () => new FailingStream());

            var result = await transport.DeliverAsync(broken);

            Assert.Equal((DeliveryOutcome.Deferred, "4.3.0", "x-local"), (result.Recipients[0].Outcome, result.Recipients[0].Status, result.Recipients[0].DiagnosticType));
            Assert.Contains("cannot read spooled message", result.Recipients[0].Diagnostic);
        }

        static bool IsRunning(int pid)
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                return !p.HasExited;
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        /// <summary>A spool file that breaks after a few bytes.</summary>
        sealed class FailingStream : MemoryStream
        {
            public FailingStream() : base(Encoding.ASCII.GetBytes("Received: x\r\n")) { }
            int _reads;

            public override int Read(byte[] buffer, int offset, int count) =>
                _reads++ == 0 ? base.Read(buffer, offset, count) : throw new IOException("disk on fire");

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Task.FromResult(Read(buffer, offset, count));
        }
    }
}
