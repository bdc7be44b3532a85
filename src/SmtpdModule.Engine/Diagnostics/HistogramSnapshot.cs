namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>What a <see cref="Histogram"/> held at one moment.</summary>
    public sealed class HistogramSnapshot
    {
        internal HistogramSnapshot(double[] bounds, long[] counts, long count, double sum)
        {
            _bounds = bounds;
            _counts = counts;
            Count = count;
            Sum = sum;
        }

        readonly double[] _bounds;
        readonly long[] _counts;

        /// <summary>Values observed.</summary>
        public long Count { get; }
        /// <summary>Their sum.</summary>
        public double Sum { get; }
        /// <summary>The finite upper bounds.</summary>
        public int BoundCount => _bounds.Length;
        /// <summary>The upper bound of bucket <paramref name="i"/>; +Inf for the last.</summary>
        public double UpperBound(int i) => i < _bounds.Length ? _bounds[i] : double.PositiveInfinity;
        /// <summary>Values at most <see cref="UpperBound"/>(<paramref name="i"/>): the cumulative count Prometheus's <c>_bucket</c> carries.</summary>
        public long CumulativeCount(int i)
        {
            long c = 0;
            for (var j = 0; j <= i && j < _counts.Length; j++) c += _counts[j];
            return c;
        }
    }
}
