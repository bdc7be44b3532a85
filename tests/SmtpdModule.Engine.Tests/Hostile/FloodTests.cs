using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Hostile
{
    /// <summary>Thousands of commands in one write (RFC 2920 pipelining, abused).</summary>
    [Collection("hostile")]
    public class FloodTests
    {
        readonly ITestOutputHelper _output;
        public FloodTests(ITestOutputHelper output) { _output = output; }

        static readonly (string Command, string Reply)[] Block =
        {
            ("NOOP", "250 2.0.0"),
            ("MAIL FROM:<a@example.org>", "250 2.1.0"),
            ("RCPT TO:<b@example.test>", "250 2.1.5"),
            ("RSET", "250 2.0.0"),
            ("HELP", "214"),
            ("VRFY someone", "252"),
            ("EHLO again.example", "250-"),
        };

        [Fact]
        public async Task A_pipelined_flood_is_answered_in_order_with_bounded_buffers()
        {
            const int blocks = 5000;   // 35,000 commands, about 700 KB, in one write
            using var proxy = TestProxy.Start();
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            var sb = new StringBuilder();
            for (int i = 0; i < blocks; i++)
                foreach (var (command, _) in Block) sb.Append(command).Append("\r\n");
            var flood = Encoding.ASCII.GetBytes(sb.ToString());
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();
            var watch = System.Diagnostics.Stopwatch.StartNew();

            var send = c.WriteAsync(flood);
            for (int i = 0; i < blocks; i++)
                foreach (var (command, expect) in Block)
                {
                    var reply = await c.ReadReplyAsync();
                    if (reply == null || !reply.StartsWith(expect, StringComparison.Ordinal))
                        Assert.Fail("block " + i + ", '" + command + "' got '" + reply + "', expected " + expect + "; log:\n" + proxy.Log);
                }
            await send;
            long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
            _output.WriteLine(blocks * Block.Length + " pipelined commands (" + Measure.MiB(flood.Length) + ") answered in order in "
                              + watch.ElapsedMilliseconds + " ms");
            Measure.Report(_output, "pipelined flood", heap0, heap1, ws0, ws1);

            await c.SendAsync("QUIT", "221");
            int peak = await Measure.PeakBufferedAsync(proxy);
            _output.WriteLine("peak session buffers: " + peak + " bytes");
            // The input buffer (4 KiB) plus replies to at most one buffer of commands before a flush.
            Assert.True(peak < 64 * 1024, "session buffered " + peak + " bytes of a " + flood.Length + "-byte flood");
        }

        [Fact]
        public async Task A_flood_that_never_reads_replies_is_cut_off_instead_of_queued()
        {
            // The client writes and never reads. The proxy must not swallow the flood and queue the
            // answers: its replies back up (TCP back-pressure), its write deadline passes, and it closes.
            using var proxy = TestProxy.Start(configure: o => o.Limits.ReadTimeout = TimeSpan.FromSeconds(1));
            using var c = await HostileClient.ConnectAsync(proxy.EndPoint);
            var noops = Encoding.ASCII.GetBytes(new StringBuilder().Insert(0, "NOOP\r\n", 4_000_000).ToString());   // 24 MB
            var send = c.WriteAsync(noops);
            Assert.True(await Task.WhenAny(send, Task.Delay(20000)) == send, "the write neither finished nor failed");
            Assert.True(send.IsFaulted, "the proxy swallowed " + Measure.MiB(noops.Length) + " of commands whose replies nobody read");
            _output.WriteLine("unread flood: the client's write failed with " + send.Exception.InnerException.GetType().Name);
            int peak = await Measure.PeakBufferedAsync(proxy);
            var bytesIn = proxy.Events.Last(e => e.Kind == "disconnect" && e.Data != null && e.Data.Any(d => d.Key == "bytesIn"))
                .Data.First(d => d.Key == "bytesIn").Value;
            _output.WriteLine("unread flood: proxy read " + bytesIn + " of " + noops.Length + " bytes, peak session buffers " + peak + " bytes");
            Assert.True(peak < 64 * 1024, "session buffered " + peak + " bytes");
        }
    }
}
