using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Hostile
{
    /// <summary>
    /// Slowloris: a thousand sessions, each trickling a byte every couple of seconds, must not keep
    /// an honest client (python's smtplib) from getting its mail through at once; and no one address
    /// may hold more than <c>MaxSessionsPerClient</c> sessions (the next gets 421).
    /// </summary>
    [Collection("hostile")]
    public class SlowlorisTests
    {
        readonly ITestOutputHelper _output;
        public SlowlorisTests(ITestOutputHelper output) { _output = output; }

        const int WantedSessions = 1000;
        const int PerClient = 20;

        [Fact]
        public async Task A_thousand_trickling_sessions_do_not_delay_a_normal_client_and_each_address_is_capped()
        {
            int sessions = AffordableSessions(WantedSessions);
            // Attackers come from 127.0.0.2 upwards (all of 127/8 is loopback on Linux), 20 from each;
            // the honest client is 127.0.0.1. Where only 127.0.0.1 exists, all share one address.
            bool manyAddresses = CanBind(IPAddress.Parse("127.0.0.2"));
            if (!manyAddresses) _output.WriteLine("only 127.0.0.1 can be bound here: every session shares one address, the per-client cap is raised for the flood and tested separately");
            // The default session limit (4000) leaves room for the honest client: 1,000 is a quarter of it.
            // The flood comes from one /24: the network limits, tested in RateLimitTests, are off here.
            using var proxy = TestProxy.Start(configure: o =>
            {
                o.MaxSessionsPerClient = manyAddresses ? PerClient : sessions + 50;
                o.RateLimits.ConnectionsAtOnce = 0;
                o.RateLimits.ConnectionsPerMinute = 0;
            });
            Assert.True(proxy.Proxy.Options.MaxSessions > sessions, "the default session limit no longer leaves room");
            long heap0 = Measure.Heap(), ws0 = Measure.WorkingSet();

            var attackers = new List<HostileClient>(sessions);
            try
            {
                var watch = Stopwatch.StartNew();
                // Connect in batches of 100 (the listen backlog is 512), each reading its greeting.
                for (int start = 0; start < sessions; start += 100)
                {
                    var batch = Enumerable.Range(start, Math.Min(100, sessions - start)).Select(i =>
                        HostileClient.ConnectAsync(proxy.EndPoint, greet: false, source: manyAddresses ? Source(i) : null, bufferSize: 256)).ToArray();
                    attackers.AddRange(await Task.WhenAll(batch));
                }
                var greetings = await Task.WhenAll(attackers.Select(a => a.ReadReplyAsync(20000)));
                Assert.All(greetings, g => Assert.StartsWith("220", g));
                await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == sessions, proxy.Log);
                _output.WriteLine(sessions + " slowloris sessions open after " + watch.ElapsedMilliseconds + " ms");

                // The trickle: one byte of an endless "EHLO xxxx..." on every session, round after round.
                using var stop = new CancellationTokenSource();
                int rounds = 0;
                var trickle = Task.Run(async () =>
                {
                    var first = "EHLO "u8.ToArray();
                    while (!stop.IsCancellationRequested)
                    {
                        foreach (var a in attackers)
                            try { await a.WriteAsync(rounds < first.Length ? new[] { first[rounds] } : new[] { (byte)'x' }); }
                            catch (Exception ex) when (ex is IOException || ex is SocketException) { }
                        rounds++;
                        try { await Task.Delay(2000, stop.Token); } catch (OperationCanceledException) { }
                    }
                });
                await TestWait.UntilAsync(() => rounds >= 2, proxy.Log, 20000);

                // The honest client, while the trickle goes on: python's smtplib, timed from connect to QUIT
                // (the interpreter's start-up is not the proxy's doing).
                var run = await ExternalClient.RunAsync(ExternalClient.Find("python3", "SMTPD_TEST_PYTHON"),
                    new[] { "-c", HonestClient, proxy.EndPoint.Port.ToString() }, null, 20000);
                Assert.True(run.ExitCode == 0, "smtplib did not send:\n" + run);
                var conversation = TimeSpan.FromSeconds(double.Parse(run.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture));
                _output.WriteLine("smtplib sent its message past " + sessions + " slowloris sessions: conversation "
                                  + (int)conversation.TotalMilliseconds + " ms, whole process " + (int)run.Elapsed.TotalMilliseconds + " ms");
                // Starvation would show as a wait for the tricklers' rounds (2 s each) or the read timeout; the
                // bound leaves room for a machine whose cores are busy (the figure itself goes to the output).
                Assert.True(conversation < TimeSpan.FromSeconds(5), "the honest client's conversation took " + conversation + "\n" + run);
                Assert.Single(proxy.Spooled());

                // One more from an address that already has its share: 421, connection closed.
                if (manyAddresses)
                {
                    using var extra = await HostileClient.ConnectAsync(proxy.EndPoint, greet: false, source: Source(0));
                    var refusal = await extra.ReadReplyAsync();
                    Assert.StartsWith("421 4.7.0", refusal);
                    Assert.True(await extra.IsClosedAsync(), "refused connection left open");
                    _output.WriteLine("session " + (PerClient + 1) + " from " + Source(0) + ": " + refusal);
                }

                long heap1 = Measure.Heap(), ws1 = Measure.WorkingSet();
                Measure.Report(_output, sessions + " open slowloris sessions", heap0, heap1, ws0, ws1);
                _output.WriteLine("per session: " + ((heap1 - heap0) / sessions) + " bytes of managed heap (both ends of the socket included)");
                Assert.Equal(sessions, proxy.Proxy.Counters.Active);   // all still there: the trickle kept them alive
                Assert.True((heap1 - heap0) / sessions < 64 * 1024, "each slowloris session costs " + (heap1 - heap0) / sessions + " bytes");

                stop.Cancel();
                await trickle;
            }
            finally
            {
                foreach (var a in attackers) a.Dispose();
            }
            await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 0, proxy.Log, 20000);
        }

        [Fact]
        public async Task Under_stress_trickling_sessions_lose_their_places_and_an_honest_client_gets_in()
        {
            // A full house of tricklers: at the limit the proxy is under stress, so a command line
            // must arrive whole within StressTimeout, and the byte-a-second sessions are closed.
            const int limit = 20;
            using var proxy = TestProxy.Start(configure: o =>
            {
                o.MaxSessions = limit;
                o.MaxSessionsPerClient = limit;
                o.Limits.StressTimeout = TimeSpan.FromSeconds(1);
            });
            var attackers = new List<HostileClient>();
            try
            {
                for (int i = 0; i < limit; i++) attackers.Add(await HostileClient.ConnectAsync(proxy.EndPoint, greet: false, bufferSize: 256));
                Assert.All(await Task.WhenAll(attackers.Select(a => a.ReadReplyAsync(10000))), g => Assert.StartsWith("220", g));
                foreach (var a in attackers) await a.WriteAsync("E"u8.ToArray());

                // Full now: a newcomer is refused until the tricklers time out.
                await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == limit, proxy.Log);
                using (var early = await HostileClient.ConnectAsync(proxy.EndPoint, greet: false))
                    Assert.StartsWith("421", await early.ReadReplyAsync(10000));

                await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 0, proxy.Log, 10000);
                var run = await ExternalClient.RunAsync(ExternalClient.Find("python3", "SMTPD_TEST_PYTHON"),
                    new[] { "-c", HonestClient, proxy.EndPoint.Port.ToString() }, null, 20000);
                Assert.True(run.ExitCode == 0, "smtplib did not send:\n" + run);
                Assert.Single(proxy.Spooled());
                Assert.Contains("timeout", proxy.Log);
            }
            finally
            {
                foreach (var a in attackers) a.Dispose();
            }
        }

        [Fact]
        public async Task The_per_client_session_limit_refuses_with_421_and_frees_a_slot_when_one_ends()
        {
            using var proxy = TestProxy.Start(configure: o => o.MaxSessionsPerClient = 3);
            var held = new List<HostileClient>();
            try
            {
                for (int i = 0; i < 3; i++) held.Add(await HostileClient.ConnectAsync(proxy.EndPoint));
                using (var fourth = await HostileClient.ConnectAsync(proxy.EndPoint, greet: false))
                {
                    Assert.StartsWith("421 4.7.0", await fourth.ReadReplyAsync());
                    Assert.True(await fourth.IsClosedAsync());
                }
                await held[0].SendAsync("QUIT", "221");
                held[0].Dispose();
                await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 2, proxy.Log);
                using var again = await HostileClient.ConnectAsync(proxy.EndPoint);
                await again.SendAsync("NOOP", "250");
            }
            finally
            {
                foreach (var h in held) h.Dispose();
            }
        }

        /// <summary>One message with smtplib from 127.0.0.1; prints the seconds from connect to the end of QUIT.</summary>
        const string HonestClient = @"
import smtplib, sys, time
t = time.perf_counter()
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='honest.example.test', timeout=10, source_address=('127.0.0.1', 0))
refused = s.sendmail('a@example.org', ['b@example.test'], b'Subject: through the crowd\r\n\r\nhello\r\n')
s.quit()
assert not refused, refused
print(time.perf_counter() - t)
";

        static IPAddress Source(int i) => new IPAddress(new byte[] { 127, 0, (byte)(1 + i / PerClient / 250), (byte)(2 + i / PerClient % 250) });

        static bool CanBind(IPAddress address)
        {
            try
            {
                using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(address, 0));
                return true;
            }
            catch (SocketException) { return false; }
        }

        /// <summary>
        /// Each session costs two descriptors here (both ends live in this process). Raises the soft
        /// limit to the hard one where it is too low; if even that is not enough, scales down and says so.
        /// </summary>
        int AffordableSessions(int wanted)
        {
            if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return wanted;
            const int RLIMIT_NOFILE_LINUX = 7, RLIMIT_NOFILE_MAC = 8;
            int resource = OperatingSystem.IsLinux() ? RLIMIT_NOFILE_LINUX : RLIMIT_NOFILE_MAC;
            var need = (ulong)(wanted * 2 + 500);
            if (getrlimit(resource, out var limit) != 0) return wanted;
            _output.WriteLine("descriptor limit: soft " + limit.Current + ", hard " + limit.Max);
            if (limit.Current >= need) return wanted;
            var raised = new RLimit { Current = Math.Min(need, limit.Max), Max = limit.Max };
            if (setrlimit(resource, ref raised) == 0) limit.Current = raised.Current;
            if (limit.Current >= need) { _output.WriteLine("raised the soft descriptor limit to " + limit.Current); return wanted; }
            int affordable = (int)Math.Max(50, ((long)limit.Current - 500) / 2);
            _output.WriteLine("SCALED DOWN: the descriptor limit (" + limit.Current + ") allows only " + affordable + " sessions, not " + wanted
                              + "; raise it (ulimit -n " + need + ") for the full test");
            return affordable;
        }

        [StructLayout(LayoutKind.Sequential)]
        struct RLimit { public ulong Current; public ulong Max; }

        [DllImport("libc", SetLastError = true)] static extern int getrlimit(int resource, out RLimit limit);
        [DllImport("libc", SetLastError = true)] static extern int setrlimit(int resource, ref RLimit limit);
    }
}
