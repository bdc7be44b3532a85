using System;
using System.Threading;
using SmtpdModule.Engine.Diagnostics;
using Xunit;

namespace SmtpdModule.Engine.Tests.Metrics
{
    /// <summary>The histogram's arithmetic, alone and under concurrent observers.</summary>
    public sealed class HistogramTests
    {
        [Fact]
        public void A_value_equal_to_a_bound_falls_in_that_bucket_and_NaN_is_ignored()
        {
            var h = new Histogram(1, 2);
            h.Observe(1);
            h.Observe(2);
            h.Observe(2.0000001);
            h.Observe(double.NaN);
            var s = h.Snapshot();
            Assert.Equal(new long[] { 1, 2, 3 }, new[] { s.CumulativeCount(0), s.CumulativeCount(1), s.CumulativeCount(2) });
            Assert.Equal(3, s.Count);
            Assert.True(double.IsPositiveInfinity(s.UpperBound(2)));
        }

        [Fact]
        public void Concurrent_observers_lose_no_count_and_no_part_of_the_sum()
        {
            var h = new Histogram(0.5, 1, 2);
            const int Threads = 8, Each = 20000;
            var values = new[] { 0.25, 0.5, 1.5, 4 };   // exact in binary: the sum has no rounding to forgive
            var threads = new Thread[Threads];
            for (var t = 0; t < Threads; t++)
            {
                var offset = t;
                threads[t] = new Thread(() =>
                {
                    for (var i = 0; i < Each; i++) h.Observe(values[(i + offset) % values.Length]);
                });
            }
            foreach (var t in threads) t.Start();
            foreach (var t in threads) t.Join();
            var s = h.Snapshot();
            const long Total = Threads * Each;
            Assert.Equal(Total, s.Count);
            Assert.Equal(Total / 4 * (0.25 + 0.5 + 1.5 + 4), s.Sum);
            Assert.Equal(Total / 2, s.CumulativeCount(0));       // 0.25 and 0.5
            Assert.Equal(Total / 2, s.CumulativeCount(1));
            Assert.Equal(Total * 3 / 4, s.CumulativeCount(2));   // and 1.5
            Assert.Equal(Total, s.CumulativeCount(3));
        }

        [Fact]
        public void Bounds_must_be_finite_and_increasing()
        {
            Assert.Throws<ArgumentException>(() => new Histogram());
            Assert.Throws<ArgumentException>(() => new Histogram(1, 1));
            Assert.Throws<ArgumentException>(() => new Histogram(1, double.PositiveInfinity));
        }
    }
}
