using System;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>What a <see cref="TrafficReport"/> covers and how it is cut.</summary>
    public sealed class TrafficReportOptions
    {
        /// <summary>The intervals an automatic <see cref="Interval"/> is chosen from: the shortest that
        /// cuts the window into at most <see cref="MaxAutomaticBuckets"/>.</summary>
        static readonly TimeSpan[] Steps =
        {
            TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15),
            TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(3),
            TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(7),
        };

        public const int MaxAutomaticBuckets = 96;
        /// <summary>A chart of more points than this says nothing a table could not; an explicit interval may not exceed it.</summary>
        public const int MaxBuckets = 2000;

        /// <summary>The window: events at or after <paramref name="start"/> and before <paramref name="end"/>.</summary>
        /// <param name="start">The window's first instant.</param>
        /// <param name="end">The instant after the window.</param>
        /// <param name="interval">The charts' step; null chooses one (at most 96 points).</param>
        /// <exception cref="ArgumentException">The window is empty, the interval is not positive, or it cuts the window into more than 2,000 points.</exception>
        public TrafficReportOptions(DateTimeOffset start, DateTimeOffset end, TimeSpan? interval = null)
        {
            if (end <= start) throw new ArgumentException("the report's window ends (" + end.ToString("o") + ") before it starts (" + start.ToString("o") + ")", nameof(end));
            var span = end - start;
            if (interval != null && interval.Value <= TimeSpan.Zero) throw new ArgumentException("the interval must be longer than zero", nameof(interval));
            Interval = interval ?? Choose(span);
            var buckets = (span.Ticks + Interval.Ticks - 1) / Interval.Ticks;
            if (buckets > MaxBuckets)
                throw new ArgumentException("an interval of " + Interval + " cuts the window into " + buckets + " points, more than " + MaxBuckets, nameof(interval));
            Start = start;
            End = end;
            BucketCount = (int)buckets;
        }

        static TimeSpan Choose(TimeSpan span)
        {
            foreach (var step in Steps)
                if (span.Ticks <= step.Ticks * MaxAutomaticBuckets) return step;
            return TimeSpan.FromTicks((span.Ticks + MaxAutomaticBuckets - 1) / MaxAutomaticBuckets);
        }

        public DateTimeOffset Start { get; }
        public DateTimeOffset End { get; }
        public TimeSpan Interval { get; }
        /// <summary>The points of each chart: the window cut by the interval, the last one possibly short.</summary>
        public int BucketCount { get; }
        /// <summary>The rows of each top list.</summary>
        public int Top { get; set; } = 10;
        public string Title { get; set; } = "Mail report";
        /// <summary>The zone times are shown in (the window is always UTC inside).</summary>
        public TimeZoneInfo DisplayZone { get; set; } = TimeZoneInfo.Utc;
    }
}
