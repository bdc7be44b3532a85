using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// When to try a deferred message again, and when to give up. The original retried every ten
    /// minutes for ever (reference §5.2 "Retry"); this backs off, like other MTAs, and ends with a
    /// bounce after <see cref="MaxQueueLifetime"/>.
    /// </summary>
    public sealed class RetrySchedule
    {
        /// <summary>1, 5, 15 and 30 minutes, then hourly.</summary>
        public static readonly IReadOnlyList<TimeSpan> DefaultIntervals = new[]
        {
            TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1),
        };

        /// <summary>Five days, the usual MTA default (Postfix's maximal_queue_lifetime).</summary>
        public static readonly TimeSpan DefaultMaxQueueLifetime = TimeSpan.FromDays(5);

        /// <param name="intervals">The delay after the first, second, … failed attempt; the last
        /// one repeats. Null for <see cref="DefaultIntervals"/>.</param>
        /// <param name="maxQueueLifetime">How long a message may wait in all; null for
        /// <see cref="DefaultMaxQueueLifetime"/>.</param>
        /// <exception cref="ArgumentException">No intervals, or one that is not positive, or a
        /// lifetime that is negative.</exception>
        public RetrySchedule(IReadOnlyList<TimeSpan> intervals = null, TimeSpan? maxQueueLifetime = null)
        {
            Intervals = intervals ?? DefaultIntervals;
            if (Intervals.Count == 0) throw new ArgumentException("At least one retry interval is required.", nameof(intervals));
            foreach (var i in Intervals)
                if (i <= TimeSpan.Zero) throw new ArgumentException("Retry intervals must be positive.", nameof(intervals));
            MaxQueueLifetime = maxQueueLifetime ?? DefaultMaxQueueLifetime;
            if (MaxQueueLifetime < TimeSpan.Zero) throw new ArgumentException("The queue lifetime cannot be negative.", nameof(maxQueueLifetime));
        }

        public IReadOnlyList<TimeSpan> Intervals { get; }
        public TimeSpan MaxQueueLifetime { get; }

        /// <summary>The delay after attempt number <paramref name="attempts"/> (1 for the first) failed.</summary>
        public TimeSpan DelayAfter(int attempts) => Intervals[Math.Min(Math.Max(attempts, 1), Intervals.Count) - 1];

        /// <summary>True when a message queued since <paramref name="since"/> has waited long enough.</summary>
        public bool IsExpired(DateTimeOffset since, DateTimeOffset now) => now - since >= MaxQueueLifetime;
    }
}
