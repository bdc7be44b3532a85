using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    public class DnsblGuardTests
    {
        static FactDnsResolver Healthy(string zone) => new FactDnsResolver().A("2.0.0.127." + zone, "127.0.0.2");

        [Fact]
        public async Task Timeouts_count_only_after_so_many_in_a_row()
        {
            var dns = new FactDnsResolver().Failing("2.0.0.127.slow.test").Failing("1.0.0.127.slow.test");
            var state = new MemoryStateStore();
            var changes = new List<DnsblProbeResult>();
            using var guard = new DnsblGuard(dns, state, new DnsblGuardOptions { RetryInterval = TimeSpan.FromMilliseconds(20), FailuresUnhealthy = 3 });
            guard.Changed += (_, r) => { lock (changes) changes.Add(r); };
            guard.Track(new[] { "slow.test" });
            await TestWait.UntilAsync(() => { lock (changes) return changes.Count > 0; });
            var r = changes.Single();
            // The first two unanswered probes changed nothing (no event, nothing stored); the third did.
            Assert.Equal(DnsblHealthStatus.Timeout, r.Status);
            Assert.StartsWith("3 probes in a row", r.Detail);
            Assert.StartsWith("Timeout", await state.GetAsync(DnsblHealth.StateKey("slow.test")));
        }

        [Fact]
        public async Task A_healthy_verdict_is_stored_and_dropped_zones_are_no_longer_watched()
        {
            var state = new MemoryStateStore();
            using var guard = new DnsblGuard(Healthy("bl.test"), state);
            guard.Track(new[] { "bl.test" });
            await TestWait.UntilAsync(async () => await state.GetAsync(DnsblHealth.StateKey("bl.test")) == "Healthy");
            Assert.Equal(DnsblHealthStatus.Healthy, guard.Current.Single().Status);
            guard.Track(new string[0]);
            Assert.Empty(guard.Current);
        }
    }
}
