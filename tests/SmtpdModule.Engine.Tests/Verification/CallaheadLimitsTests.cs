using System;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;
using static SmtpdModule.Engine.Tests.Verification.CallaheadSourceTests;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>The callahead's bounds per downstream, seen from the downstream's side.</summary>
    public class CallaheadLimitsTests
    {
        static string[] Slow(string seconds) => TwoUsers.Concat(new[] { "--rcpt-delay", seconds }).ToArray();

        static int MostOpen(DownstreamSmtpServer server) =>
            server.Of("opened").Select(e => e.GetProperty("open").GetInt32()).DefaultIfEmpty(0).Max();

        [DownstreamFact]
        public async Task No_more_than_the_concurrency_limit_of_connections_are_open_at_once()
        {
            using var server = await DownstreamSmtpServer.StartAsync(Slow("1"));
            var options = Options(server);
            options.MaxConcurrentProbes = 2;
            options.MaxWait = TimeSpan.FromSeconds(30);
            var source = new CallaheadSource(options);

            var answers = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => source.CheckAsync("alice@example.test")));

            Assert.All(answers, a => Assert.Equal(MailboxStatus.Known, a.Status));
            await TestWait.UntilAsync(() => server.Of("closed").Count == 5, server.Describe());
            // Exactly the limit: the probes did run side by side, and never more of them.
            Assert.Equal(2, MostOpen(server));
        }

        [DownstreamFact]
        public async Task A_probe_that_cannot_get_a_slot_in_time_is_unavailable()
        {
            using var server = await DownstreamSmtpServer.StartAsync(Slow("3"));
            var options = Options(server);
            options.MaxConcurrentProbes = 1;
            options.MaxWait = TimeSpan.FromMilliseconds(200);
            var source = new CallaheadSource(options);

            var first = source.CheckAsync("alice@example.test");
            await TestWait.UntilAsync(() => server.Sessions == 1, server.Describe());
            var second = await source.CheckAsync("bob@example.test");

            Assert.Equal(MailboxStatus.Unavailable, second.Status);
            Assert.StartsWith("probe limit", second.Detail);
            Assert.Equal(MailboxStatus.Known, (await first).Status);
            Assert.Equal(1, server.Sessions);
        }

        [DownstreamFact]
        public async Task New_connections_beyond_the_rate_are_unavailable()
        {
            using var server = await DownstreamSmtpServer.StartAsync(TwoUsers);
            var options = Options(server);
            options.ProbesPerSecond = 0.2;   // one token, the next after 5 s
            options.MaxWait = TimeSpan.FromMilliseconds(200);
            var source = new CallaheadSource(options);

            var first = await source.CheckAsync("alice@example.test");
            var second = await source.CheckAsync("bob@example.test");

            Assert.Equal(MailboxStatus.Known, first.Status);
            Assert.Equal(MailboxStatus.Unavailable, second.Status);
            Assert.Contains("new probes a second", second.Detail);
            Assert.Equal(1, server.Sessions);
        }
    }
}
