using System;
using System.Threading;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// A histogram with fixed upper bounds, for durations and sizes that a metrics exporter reads at
    /// scrape time (Prometheus's histogram: cumulative buckets, a sum and a count). It lives here, at
    /// the bottom of the engine, because the forwarder feeds it and the exporter sits above it.
    /// </summary>
    /// <remarks>
    /// <see cref="Observe"/> is lock-free and allocation-free: a short search of the bounds, one
    /// <see cref="Interlocked.Increment(ref long)"/> for the bucket, and a compare-and-swap loop on the
    /// bits of the double sum. A snapshot reads each bucket atomically but not all at once, so while
    /// values are observed the sum may be a value ahead of the buckets; <see cref="Snapshot"/> takes the
    /// count from the buckets it read, so a snapshot's cumulative counts always end at its count.
    /// </remarks>
    public sealed class Histogram
    {
        readonly double[] _bounds;
        readonly long[] _counts;   // one per bound, then one for +Inf
        long _sumBits;

        /// <summary>A histogram whose buckets end at <paramref name="upperBounds"/> (and +Inf).</summary>
        /// <exception cref="ArgumentNullException"><paramref name="upperBounds"/> is null.</exception>
        /// <exception cref="ArgumentException">The bounds are empty, not finite, or not strictly increasing.</exception>
        public Histogram(params double[] upperBounds)
        {
            if (upperBounds == null) throw new ArgumentNullException(nameof(upperBounds));
            if (upperBounds.Length == 0) throw new ArgumentException("A histogram needs at least one bound.", nameof(upperBounds));
            for (var i = 0; i < upperBounds.Length; i++)
            {
                if (double.IsNaN(upperBounds[i]) || double.IsInfinity(upperBounds[i]))
                    throw new ArgumentException("Bounds must be finite (+Inf is always the last bucket).", nameof(upperBounds));
                if (i > 0 && upperBounds[i] <= upperBounds[i - 1])
                    throw new ArgumentException("Bounds must be strictly increasing.", nameof(upperBounds));
            }
            _bounds = (double[])upperBounds.Clone();
            _counts = new long[_bounds.Length + 1];
        }

        /// <summary>The finite upper bounds, in increasing order.</summary>
        public double[] UpperBounds => (double[])_bounds.Clone();

        /// <summary>Counts <paramref name="value"/> in the first bucket whose bound it does not exceed
        /// (a value equal to a bound is in that bucket: Prometheus's <c>le</c>). NaN is ignored.</summary>
        public void Observe(double value)
        {
            if (double.IsNaN(value)) return;
            var i = 0;
            while (i < _bounds.Length && value > _bounds[i]) i++;
            Interlocked.Increment(ref _counts[i]);
            long seen = Interlocked.Read(ref _sumBits), next;
            do
            {
                var current = seen;
                next = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(current) + value);
                seen = Interlocked.CompareExchange(ref _sumBits, next, current);
                if (seen == current) return;
            } while (true);
        }

        /// <summary>The counts now: per bucket (not cumulative; the last is +Inf), their total and the sum.</summary>
        public HistogramSnapshot Snapshot()
        {
            var counts = new long[_counts.Length];
            long total = 0;
            for (var i = 0; i < counts.Length; i++) { counts[i] = Interlocked.Read(ref _counts[i]); total += counts[i]; }
            return new HistogramSnapshot(_bounds, counts, total, BitConverter.Int64BitsToDouble(Interlocked.Read(ref _sumBits)));
        }
    }
}
