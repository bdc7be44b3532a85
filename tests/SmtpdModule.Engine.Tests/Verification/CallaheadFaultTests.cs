using System;
using System.Diagnostics;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>A downstream that misbehaves (fault_server.py) makes a probe Unavailable, soon.</summary>
    public class CallaheadFaultTests
    {
        static CallaheadOptions Options(DownstreamSmtpServer server) =>
            new CallaheadOptions { Host = "127.0.0.1", Port = server.Port, HeloName = "proxy.test" };

        [DownstreamFact]
        public async Task A_greeting_that_never_ends_is_cut_off_by_size_not_left_to_fill_memory_until_the_timeout()
        {
            using var server = await DownstreamSmtpServer.StartFaultyAsync("endless-greeting");
            var watch = Stopwatch.StartNew();

            var answer = await new CallaheadSource(Options(server)).CheckAsync("alice@example.test");

            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("more than " + CallaheadClient.MaxReplyBytes + " bytes", answer.Detail);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
        }

        [DownstreamFact]
        public async Task Garbage_instead_of_a_greeting_is_unavailable_for_both_probes()
        {
            using var server = await DownstreamSmtpServer.StartFaultyAsync("garbage-greeting", faulty: 2);

            var answer = await new CallaheadSource(Options(server)).CheckAsync("alice@example.test");
            var limits = await new DownstreamLimitsProbe(Options(server)).ProbeAsync();

            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.StartsWith("connect to 127.0.0.1:" + server.Port + " failed", answer.Detail);
            Assert.False(limits.IsKnown);
            Assert.Contains("127.0.0.1:" + server.Port, limits.Detail);
        }
    }
}
