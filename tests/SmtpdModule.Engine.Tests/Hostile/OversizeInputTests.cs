using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Hostile
{
    /// <summary>
    /// Input far beyond the limits: every case gets its reply (or a clean close), the session's
    /// buffers stay within what <see cref="SessionLimits"/> allows, and nothing oversized is spooled.
    /// </summary>
    [Collection("hostile")]
    public class OversizeInputTests
    {
        readonly ITestOutputHelper _output;
        public OversizeInputTests(ITestOutputHelper output) { _output = output; }

        /// <summary>What a session may hold: the command buffer, the DATA buffer and a few queued replies.</summary>
        const int SessionBufferBound = 128 * 1024;

        [Fact]
        public async Task A_one_MiB_command_line_without_LF_is_not_buffered_and_draws_500_when_it_ends()
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            var line = new byte[1024 * 1024];   // allocated before measuring: only the proxy's growth counts
            Array.Fill(line, (byte)'A');
            "MAIL FROM:<"u8.CopyTo(line);
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();
            await c.WriteAsync(line);
            await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 1, proxy.Log);
            long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
            Measure.Report(_output, "1 MiB line held open without LF", heap0, heap1, ws0, ws1);

            await c.WriteAsync("\r\n");
            Assert.StartsWith("500 5.5.2", await c.ReadReplyAsync());
            await c.SendAsync("NOOP", "250");
            await c.SendAsync("QUIT", "221");
            int peak = await Measure.PeakBufferedAsync(proxy);
            _output.WriteLine("peak session buffers: " + peak + " bytes");
            Assert.True(peak < SessionBufferBound, "session buffered " + peak + " bytes");
            Assert.True(heap1 - heap0 < 512 * 1024, "heap grew by " + Measure.MiB(heap1 - heap0) + " while the line was open");
        }

        [Fact]
        public async Task Ten_thousand_recipients_get_452_after_the_limit_and_the_session_survives()
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();

            var sb = new StringBuilder();
            for (int i = 0; i < 10000; i++) sb.Append("RCPT TO:<r").Append(i).Append("@example.test>\r\n");
            // One write; replies are read meanwhile, or both sides would block on full socket buffers.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var send = c.WriteAsync(sb.ToString());
            int ok = 0, full = 0;
            for (int i = 0; i < 10000; i++)
            {
                var reply = await c.ReadReplyAsync();
                if (reply == null) Assert.Fail("closed after " + i + " replies; log:\n" + proxy.Log);
                if (reply.StartsWith("250 ", StringComparison.Ordinal)) { Assert.Equal(0, full); if (++ok == 100) _output.WriteLine("100 accepted after " + watch.ElapsedMilliseconds + " ms"); }
                else if (reply.StartsWith("452 4.5.3", StringComparison.Ordinal)) full++;
                else Assert.Fail("reply " + i + ": " + reply);
            }
            await send;
            _output.WriteLine("10,000 replies after " + watch.ElapsedMilliseconds + " ms");
            long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
            Measure.Report(_output, "10,000 RCPT", heap0, heap1, ws0, ws1);
            Assert.Equal(proxy.Proxy.Options.Limits.MaxRecipients, ok);
            Assert.Equal(10000 - ok, full);

            // The transaction is intact: the first hundred recipients get the message.
            await c.SendAsync("DATA", "354");
            await c.SendAsync("Subject: many\r\n\r\nhi\r\n.", "250 2.0.0");
            await c.SendAsync("QUIT", "221");
            var spooled = Assert.Single(proxy.Spooled());
            Assert.Equal(100, spooled.Envelope.Recipients.Count);
            int peak = await Measure.PeakBufferedAsync(proxy);
            _output.WriteLine("peak session buffers: " + peak + " bytes");
            Assert.True(peak < SessionBufferBound, "session buffered " + peak + " bytes");
        }

        [Fact]
        public async Task A_message_twice_the_size_limit_gets_552_after_the_dot_and_nothing_is_spooled()
        {
            const int limit = 256 * 1024;
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxMessageSize = limit);
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            int filesBefore = Measure.SpoolFiles(proxy).Length;
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();

            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            var body = new StringBuilder("Subject: big\r\n\r\n");
            var textLine = new string('x', 998) + "\r\n";
            while (body.Length < 2 * limit) body.Append(textLine);
            await c.WriteAsync(body.ToString());
            // Nothing may come back before the terminator: the refusal is the reply to the whole DATA.
            var early = c.ReadReplyAsync(30000);
            await c.WriteAsync(".\r\n");
            Assert.StartsWith("552 5.3.4", await early);
            long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
            Measure.Report(_output, "message of 2x the limit", heap0, heap1, ws0, ws1);

            // The session goes on, and a message within the limit still gets through afterwards.
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            Assert.Empty(proxy.Spooled());
            Assert.Equal(filesBefore, Measure.SpoolFiles(proxy).Length);
            await c.SendAsync("QUIT", "221");
            int peak = await Measure.PeakBufferedAsync(proxy);
            _output.WriteLine("peak session buffers: " + peak + " bytes");
            Assert.True(peak < SessionBufferBound, "session buffered " + peak + " bytes");
        }

        [Fact]
        public async Task A_header_section_of_100000_lines_is_streamed_to_the_spool_with_bounded_memory()
        {
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();

            var sb = new StringBuilder(2 * 1024 * 1024);
            for (int i = 0; i < 100000; i++) sb.Append("X-Header-").Append(i).Append(": value\r\n");
            sb.Append("\r\nbody\r\n.\r\n");
            var bytes = Encoding.ASCII.GetBytes(sb.ToString());
            sb = null;
            var send = c.WriteAsync(bytes);
            var reply = await c.ReadReplyAsync(30000);
            await send;
            Assert.StartsWith("250 2.0.0", reply);
            long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
            Measure.Report(_output, "100,000 header lines (" + Measure.MiB(bytes.Length) + ")", heap0, heap1, ws0, ws1);

            await c.SendAsync("QUIT", "221");
            var spooled = Assert.Single(proxy.Spooled());
            var text = Encoding.ASCII.GetString(spooled.Body);
            Assert.Contains("X-Header-99999: value\r\n\r\nbody\r\n", text);
            int peak = await Measure.PeakBufferedAsync(proxy);
            _output.WriteLine("peak session buffers: " + peak + " bytes");
            Assert.True(peak < SessionBufferBound, "session buffered " + peak + " bytes");
        }
    }
}
