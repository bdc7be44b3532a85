using System;
using System.Diagnostics;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Spool;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Forwarding.Faults
{
    /// <summary>
    /// The forwarder (SmtpTransport over a real spool) against downstream servers that fail in the
    /// middle of a transaction (tests/fixtures/downstream/fault_server.py). Every fault must end
    /// the attempt within the transport's timeouts, leave the message deferred with its recipient
    /// pending, and let the next attempt deliver it exactly once. A second copy is allowed only
    /// where about_SmtpdSpool's "Delivery" allows one: the server had the whole message and its
    /// reply to the final dot was lost (the server's event says "complete").
    /// </summary>
    public class DownstreamFaultTests
    {
        // Short on purpose: the stall must be ended by CommandTimeout, not by the test.
        static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(2);
        static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(3);
        // Far above any timeout above: reaching it means the attempt would have hung.
        static readonly TimeSpan AttemptLimit = TimeSpan.FromSeconds(60);

        static ForwarderOptions Options(string spool, int port) => new ForwarderOptions
        {
            SpoolPath = spool,
            PollInterval = TimeSpan.FromSeconds(1),
            Retry = new RetrySchedule(new[] { TimeSpan.FromSeconds(1) }),
            HostName = "relay.example.net",
            Transport = TestTransports.Smtp(port, o =>
            {
                o.ConnectTimeout = ConnectTimeout;
                o.CommandTimeout = CommandTimeout;
            }),
        };

        static byte[] Body(string subject, int lines = 200) => Encoding.ASCII.GetBytes(
            "From: a@example.org\r\nSubject: " + subject + "\r\nMessage-Id: <" + subject + "@example.org>\r\n\r\n" +
            string.Concat(Enumerable.Repeat("A line of the body of " + subject + ".\r\n", lines)) + ".leading dot\r\n");

        static async Task<string> Spool(string root, byte[] body)
        {
            var writer = SpoolWriter.Open(root);
            var envelope = TempSpool.NewEnvelope("<rcpt@example.com>");
            envelope.From = "<a@example.org>";
            envelope.Received = DateTimeOffset.UtcNow;
            var message = writer.BeginMessage(envelope);
            message.Body.Write(body, 0, body.Length);
            await writer.CommitAsync(message);
            return message.Id;
        }

        /// <summary>One RunOnceAsync, failing the test (and cancelling the run) if it outlives
        /// <see cref="AttemptLimit"/>.</summary>
        static async Task<(ForwardSummary Summary, TimeSpan Took)> RunOnceBoundedAsync(string spool, int port, Func<string> describe)
        {
            using var cancel = new CancellationTokenSource();
            var watch = Stopwatch.StartNew();
            var run = Forwarder.RunOnceAsync(Options(spool, port), null, null, cancel.Token);
            if (await Task.WhenAny(run, Task.Delay(AttemptLimit)) != run)
            {
                cancel.Cancel();
                try { await run; } catch (OperationCanceledException) { }
                throw new XunitException("the attempt did not end within " + AttemptLimit.TotalSeconds + " s; " + describe());
            }
            return (await run, watch.Elapsed);
        }

        /// <summary>The recipient's diagnostic after the faulty attempt (xunit makes one instance per test).</summary>
        string _diagnostic;

        async Task<DownstreamSmtpServer> DeferredThenDeliveredOnceAsync(string fault, bool completeAtFault, int lines = 200)
        {
            using var spool = new TempSpool();
            var server = await DownstreamSmtpServer.StartFaultyAsync(fault);
            try
            {
                var body = Body(fault, lines);
                var id = await Spool(spool.Root, body);

                var (first, took) = await RunOnceBoundedAsync(spool.Root, server.Port, server.Describe);

                Assert.True(first.Forwarded == 0 && first.Deferred == 1 && first.Failed == 0 && first.Errors == 0,
                    "first attempt: forwarded " + first.Forwarded + ", deferred " + first.Deferred + ", failed " + first.Failed + ", errors " + first.Errors + "; " + server.Describe());
                // Each fault ends within a timeout or two of the transport, never the test's limit.
                Assert.True(took < CommandTimeout + ConnectTimeout + TimeSpan.FromSeconds(10), "the first attempt took " + took);
                var item = SpoolQueue.Open(spool.Root).Get(id);
                Assert.Equal(SpoolState.Deferred, item.State);
                var recipient = Assert.Single(item.Recipients);
                Assert.Equal(RecipientStatus.Pending, recipient.Status);
                Assert.StartsWith("4.", recipient.StatusCode);
                _diagnostic = recipient.Diagnostic;
                Assert.Empty(server.Messages);
                Assert.Equal(completeAtFault ? 1 : 0, server.CompleteFaults);

                // Later (made due now): the server behaves, the message goes once and leaves the spool.
                SpoolQueue.Open(spool.Root).Release(id);
                var (second, _) = await RunOnceBoundedAsync(spool.Root, server.Port, server.Describe);

                Assert.Equal(1, second.Forwarded);
                Assert.Equal(0, second.Deferred);
                Assert.Empty(SpoolQueue.Open(spool.Root).List());
                var received = Assert.Single(server.Messages);
                Assert.Equal(body, server.Bytes(received));
                Assert.Equal(new[] { "rcpt@example.com" }, received.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()));
                return server;
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }

        [DownstreamFact]
        public async Task A_connection_dropped_in_the_middle_of_DATA_defers_and_the_retry_delivers_once()
        {
            using var server = await DeferredThenDeliveredOnceAsync("drop-data", completeAtFault: false);
        }

        [DownstreamFact]
        public async Task A_connection_dropped_while_a_large_message_is_being_sent_defers()
        {
            // About 4 MiB: the client is still writing when the server hangs up.
            using var server = await DeferredThenDeliveredOnceAsync("drop-data", completeAtFault: false, lines: 100000);
        }

        [DownstreamFact]
        public async Task No_answer_to_the_final_dot_is_ended_by_CommandTimeout_and_deferred()
        {
            using var server = await DeferredThenDeliveredOnceAsync("stall-dot", completeAtFault: true);
        }

        [DownstreamFact]
        public async Task Garbage_instead_of_the_greeting_defers()
        {
            using var server = await DeferredThenDeliveredOnceAsync("garbage-greeting", completeAtFault: false);
        }

        [DownstreamFact]
        public async Task Garbage_instead_of_the_reply_to_the_final_dot_defers()
        {
            using var server = await DeferredThenDeliveredOnceAsync("garbage-dot", completeAtFault: true);
        }

        [DownstreamFact]
        public async Task A_greeting_that_never_ends_defers_without_buffering_it()
        {
            using var server = await DeferredThenDeliveredOnceAsync("endless-greeting", completeAtFault: false);
            await AssertFloodStoppedAsync(server);
        }

        [DownstreamFact]
        public async Task A_reply_to_the_final_dot_that_never_ends_defers_without_buffering_it()
        {
            using var server = await DeferredThenDeliveredOnceAsync("endless-dot", completeAtFault: true);
            await AssertFloodStoppedAsync(server);
            Assert.Contains("without waiting for a command", _diagnostic);
        }

        [DownstreamFact]
        public async Task A_reply_line_of_one_MiB_to_the_final_dot_defers()
        {
            using var server = await DeferredThenDeliveredOnceAsync("longline-dot", completeAtFault: true);
            Assert.Contains("without waiting for a command", _diagnostic);
        }

        [DownstreamFact]
        public async Task A_reply_to_the_final_dot_trickled_a_byte_at_a_time_is_ended_by_the_command_timeout()
        {
            using var server = await DeferredThenDeliveredOnceAsync("trickle-dot", completeAtFault: true);
            Assert.Contains("command timeout", _diagnostic);
        }

        [DownstreamFact]
        public async Task A_daemon_retries_through_three_faults_and_delivers_once()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartFaultyAsync("garbage-dot", faulty: 3);
            var body = Body("daemon");
            await Spool(spool.Root, body);

            var forwarder = Forwarder.Start(Options(spool.Root, server.Port));
            try
            {
                await TestWait.UntilAsync(() => server.Messages.Count >= 1 && !SpoolQueue.Open(spool.Root).List().Any(), server.Describe(), 60000);
            }
            finally
            {
                await forwarder.StopAsync();
            }

            Assert.Equal(3, forwarder.Deferred);
            Assert.Equal(1, forwarder.Forwarded);
            Assert.Equal(3, server.CompleteFaults);   // three copies the server may have kept: the documented window
            var received = Assert.Single(server.Messages);
            Assert.Equal(body, server.Bytes(received));
        }

        /// <summary>The client hung up on the flood after reading a bounded amount of it.</summary>
        static async Task AssertFloodStoppedAsync(DownstreamSmtpServer server)
        {
            await TestWait.UntilAsync(() => server.Of("closed").Count > 0, server.Describe());
            var sent = server.Of("closed")[0].GetProperty("sent").GetInt64();
            // What the client read is at most its limit; the rest sat in the socket buffers.
            Assert.True(sent < 64L << 20, "the server wrote " + sent + " bytes before the client hung up");
        }
    }
}
