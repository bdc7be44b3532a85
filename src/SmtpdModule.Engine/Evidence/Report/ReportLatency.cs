using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>How long delivered messages waited in the spool, from the proxy's acceptance to the
    /// forwarder's delivery: known only for messages whose acceptance is in the logs read.</summary>
    public sealed class ReportLatency
    {
        internal static ReportLatency Of(List<double> seconds)
        {
            if (seconds.Count == 0) return new ReportLatency(0, null, null, null);
            seconds.Sort();
            return new ReportLatency(seconds.Count, Quantile(seconds, 0.5), Quantile(seconds, 0.9), seconds[seconds.Count - 1]);
        }

        static double Quantile(List<double> sorted, double q) => sorted[(int)Math.Ceiling(q * sorted.Count) - 1];

        ReportLatency(long count, double? median, double? p90, double? max)
        {
            Count = count;
            Median = median;
            Percentile90 = p90;
            Maximum = max;
        }

        /// <summary>Deliveries measured.</summary>
        public long Count { get; }
        /// <summary>Seconds; null when none was measured.</summary>
        public double? Median { get; }
        public double? Percentile90 { get; }
        public double? Maximum { get; }
    }
}
