using System;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>What happened in one interval of a report's window: the points of its charts.</summary>
    public sealed class ReportBucket
    {
        internal ReportBucket(DateTimeOffset start, TimeSpan length)
        {
            Start = start;
            End = start + length;
        }

        public DateTimeOffset Start { get; }
        public DateTimeOffset End { get; }
        /// <summary>Messages the proxy spooled (its <c>accepted</c> events).</summary>
        public long Accepted { get; internal set; }
        /// <summary>Refusals for good: refused recipients and MAIL commands, messages refused after DATA.</summary>
        public long Refused { get; internal set; }
        /// <summary>Refusals for now (4xx): greylisting, failed lookups, limits.</summary>
        public long Deferred { get; internal set; }
        /// <summary>Recipients the forwarder delivered.</summary>
        public long Delivered { get; internal set; }
        /// <summary>Delivery attempts the forwarder left for a later try.</summary>
        public long DeliveryDeferred { get; internal set; }
        /// <summary>Delivery status notifications the forwarder sent back.</summary>
        public long Bounced { get; internal set; }
    }
}
