using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    public class DnsCacheTests
    {
        /// <summary>Answers every A question with 127.0.0.2 and the TTL given, or fails; counts questions.</summary>
        sealed class Counting : IDnsResolver
        {
            public int? Ttl = 60;
            public bool Fail;
            public readonly List<string> Asked = new List<string>();
            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                lock (Asked) Asked.Add(name);
                return Task.FromResult(Fail ? DnsAnswer.Failed("down") : DnsAnswer.Ok(new[] { "127.0.0.2" }).WithTimeToLive(Ttl));
            }
        }

        long _now;

        [Fact]
        public async Task An_answer_is_kept_for_its_TTL_and_asked_again_after()
        {
            var inner = new Counting();
            var cache = new DnsCache(inner, 100, () => _now);
            await cache.QueryAsync("2.0.0.127.bl.test", DnsRecordType.A);
            _now = 59_000;
            var kept = await cache.QueryAsync("2.0.0.127.BL.test.", DnsRecordType.A);
            Assert.Single(inner.Asked);
            Assert.Equal(1, kept.TimeToLive);
            _now = 60_000;
            await cache.QueryAsync("2.0.0.127.bl.test", DnsRecordType.A);
            Assert.Equal(2, inner.Asked.Count);
        }

        [Fact]
        public async Task Failures_and_answers_without_a_TTL_are_never_kept()
        {
            var inner = new Counting { Fail = true };
            var cache = new DnsCache(inner, 100, () => _now);
            await cache.QueryAsync("a.bl.test", DnsRecordType.A);
            await cache.QueryAsync("a.bl.test", DnsRecordType.A);
            inner.Fail = false;
            inner.Ttl = null;
            await cache.QueryAsync("a.bl.test", DnsRecordType.A);
            await cache.QueryAsync("a.bl.test", DnsRecordType.A);
            Assert.Equal(4, inner.Asked.Count);
        }

        [Fact]
        public async Task The_cache_never_holds_more_than_its_capacity()
        {
            var inner = new Counting { Ttl = 3600 };
            var cache = new DnsCache(inner, 16, () => _now);
            for (int i = 0; i < 1000; i++)
            {
                _now += 10;
                await cache.QueryAsync(i + ".bl.test", DnsRecordType.A);
                Assert.True(cache.Count <= 16, "count " + cache.Count);
            }
            // The latest answers stay; the ones expiring soonest went.
            await cache.QueryAsync("999.bl.test", DnsRecordType.A);
            Assert.Equal(1000, inner.Asked.Count);
        }

        [Fact]
        public async Task A_TTL_over_an_hour_is_cut_to_an_hour()
        {
            var inner = new Counting { Ttl = 86400 };
            var cache = new DnsCache(inner, 16, () => _now);
            await cache.QueryAsync("x.bl.test", DnsRecordType.A);
            _now = 3_600_000;
            await cache.QueryAsync("x.bl.test", DnsRecordType.A);
            Assert.Equal(2, inner.Asked.Count);
        }
    }
}
