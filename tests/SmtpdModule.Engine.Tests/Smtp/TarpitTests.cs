using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    public class TarpitTests
    {
        [Fact]
        public async Task Hundreds_of_tarpitted_sessions_hold_no_threads()
        {
            const int sessions = 300;
            using var proxy = TestProxy.Start("noto_delay:ALL:ALL:*@spam.test:550 5.7.1 slowly\nallow:ALL:ALL:ALL\n", o =>
            {
                o.RuleEvaluation.NotoDelay = TimeSpan.FromSeconds(3);
                o.MaxSessions = sessions + 10;
                o.MaxSessionsPerClient = sessions + 10;
                o.RateLimits.ConnectionsAtOnce = sessions + 10;
            });
            var clients = await Task.WhenAll(Enumerable.Range(0, sessions).Select(_ => LineClient.ConnectAsync(proxy.EndPoint)));
            try
            {
                int before = Process.GetCurrentProcess().Threads.Count;
                var watch = Stopwatch.StartNew();
                foreach (var c in clients) await c.WriteAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<x@spam.test>\r\n");
                foreach (var c in clients) Assert.StartsWith("250", await c.ReadReplyAsync());
                // Every session is now inside its delay. A thread per session would show here.
                await Task.Delay(500);
                int during = Process.GetCurrentProcess().Threads.Count;
                Assert.True(during - before < 50, "threads went from " + before + " to " + during + " with " + sessions + " delayed sessions");
                var replies = await Task.WhenAll(clients.Select(c => c.ReadReplyAsync(15000)));
                Assert.All(replies, r => Assert.StartsWith("550 5.7.1 slowly", r));
                // The delays ran side by side, not one after another.
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(12), "took " + watch.Elapsed);
            }
            finally
            {
                foreach (var c in clients) c.Dispose();
            }
        }
    }
}
