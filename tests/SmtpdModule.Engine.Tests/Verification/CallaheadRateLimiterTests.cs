using System;
using System.Diagnostics;
using System.Threading.Tasks;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    public class CallaheadRateLimiterTests
    {
        long _now = 1000;

        void Advance(double seconds) => _now += (long)(seconds * Stopwatch.Frequency);

        [Fact]
        public void A_burst_of_one_seconds_worth_then_one_token_per_interval()
        {
            var bucket = new CallaheadRateLimiter(10, () => _now);
            for (var i = 0; i < 10; i++) Assert.True(bucket.TryTake(out _), "token " + i);
            Assert.False(bucket.TryTake(out var wait));
            Assert.InRange(wait.TotalMilliseconds, 99, 101);

            Advance(0.05);
            Assert.False(bucket.TryTake(out wait));
            Assert.InRange(wait.TotalMilliseconds, 49, 51);
            Advance(0.05);
            Assert.True(bucket.TryTake(out _));
            Assert.False(bucket.TryTake(out _));
        }

        [Fact]
        public void An_idle_bucket_fills_to_its_capacity_and_no_further()
        {
            var bucket = new CallaheadRateLimiter(2, () => _now);
            Assert.True(bucket.TryTake(out _));
            Assert.True(bucket.TryTake(out _));
            Advance(3600);
            Assert.True(bucket.TryTake(out _));
            Assert.True(bucket.TryTake(out _));
            Assert.False(bucket.TryTake(out _));
        }

        [Fact]
        public void A_rate_below_one_a_second_still_allows_one_token()
        {
            var bucket = new CallaheadRateLimiter(0.5, () => _now);
            Assert.True(bucket.TryTake(out _));
            Assert.False(bucket.TryTake(out var wait));
            Assert.InRange(wait.TotalSeconds, 1.99, 2.01);
        }

        [Fact]
        public async Task A_wait_that_would_outlast_its_budget_gives_up_at_once()
        {
            var bucket = new CallaheadRateLimiter(1, () => _now);   // the clock stands still
            Assert.True(await bucket.WaitAsync(TimeSpan.Zero, default));
            var watch = Stopwatch.StartNew();
            Assert.False(await bucket.WaitAsync(TimeSpan.FromMilliseconds(500), default));
            Assert.True(watch.ElapsedMilliseconds < 400, watch.ElapsedMilliseconds + " ms");
        }
    }
}
