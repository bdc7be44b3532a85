using System;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    public class DownstreamLimitsProbeTests
    {
        static CallaheadOptions Options(DownstreamSmtpServer server) =>
            new CallaheadOptions { Host = "127.0.0.1", Port = server.Port, HeloName = "proxy.test" };

        [DownstreamFact]
        public async Task The_downstreams_SIZE_and_missing_SMTPUTF8_are_learned()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--size", "1000000", "--log-commands");

            var limits = await new DownstreamLimitsProbe(Options(server)).ProbeAsync();

            Assert.True(limits.IsKnown, limits.ToString());
            Assert.Equal(1000000, limits.MaxSize);
            Assert.False(limits.SmtpUtf8);
            Assert.True(limits.EightBitMime);
            Assert.NotNull(limits.LearnedAt);
            Assert.Equal(1000000, limits.CapSize(10485760));
            Assert.Equal(500000, limits.CapSize(500000));
            Assert.Equal(1000000, limits.CapSize(0));
            await TestWait.UntilAsync(() => server.Of("closed").Count == 1, server.Describe());
            Assert.Equal(new[] { "EHLO", "QUIT" }, server.Of("command").Select(e => e.GetProperty("verb").GetString()));
        }

        [DownstreamFact]
        public async Task SMTPUTF8_offered_and_no_SIZE_mean_no_size_limit()
        {
            using var server = await DownstreamSmtpServer.StartAsync("--size", "0", "--smtputf8", "--no-8bitmime");

            var limits = await new DownstreamLimitsProbe(Options(server)).ProbeAsync();

            Assert.True(limits.IsKnown, limits.ToString());
            Assert.Equal(0, limits.MaxSize);
            Assert.True(limits.SmtpUtf8);
            Assert.False(limits.EightBitMime);
            Assert.Equal(10485760, limits.CapSize(10485760));
        }

        [DownstreamFact]
        public async Task A_stopped_downstream_gives_no_limits_with_the_reason()
        {
            var server = await DownstreamSmtpServer.StartAsync();
            var options = Options(server);
            server.Dispose();

            var limits = await new DownstreamLimitsProbe(options).ProbeAsync();

            Assert.False(limits.IsKnown);
            Assert.Contains("127.0.0.1:" + options.Port, limits.Detail);
            Assert.Equal(10485760, limits.CapSize(10485760));
        }

        [DownstreamFact]
        public async Task The_refresher_learns_from_a_real_downstream_and_keeps_it_when_the_downstream_stops()
        {
            var server = await DownstreamSmtpServer.StartAsync("--size", "1000000");
            // An interval no read reaches: only RefreshAsync probes again, so nothing races the stop.
            using var refresher = new DownstreamLimitsRefresher(new DownstreamLimitsProbe(Options(server)),
                                                                TimeSpan.FromHours(1), TimeSpan.FromSeconds(10));

            var first = await refresher.GetAsync();
            Assert.Equal(1000000, first.MaxSize);

            server.Dispose();
            var after = await refresher.RefreshAsync();
            Assert.Same(first, after);
            Assert.Same(first, refresher.Current);
        }
    }
}
