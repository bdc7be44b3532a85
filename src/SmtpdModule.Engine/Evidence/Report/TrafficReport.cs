using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// What the proxy's and the forwarder's logs say about one window of time: the totals, the charts'
    /// points, and the tables of a morning report (Export-SmtpdReport writes it as one HTML page).
    /// </summary>
    public sealed class TrafficReport
    {
        internal TrafficReport(TrafficReportOptions options, DateTimeOffset generated, IReadOnlyList<string> logFiles, IReadOnlyList<string> rulesSha256,
                               TrafficTotals t, IReadOnlyList<ReportBucket> buckets, IReadOnlyList<ReportCount> refusalsByReason,
                               IReadOnlyList<ReportRuleLine> refusalsByLine, IReadOnlyList<ReportCount> topClients, IReadOnlyList<ReportCount> topSenders,
                               IReadOnlyList<ReportDnsblZone> dnsbl, IReadOnlyList<ReportCount> greylisting, IReadOnlyList<ReportCount> verification,
                               IReadOnlyList<ReportCount> spf, ReportLatency deliveryDelay, IReadOnlyList<ReportCount> spoolDepth, long unreadableLines)
        {
            Title = options.Title;
            Start = options.Start;
            End = options.End;
            Interval = options.Interval;
            DisplayZone = options.DisplayZone ?? TimeZoneInfo.Utc;
            Generated = generated;
            LogFiles = logFiles;
            RulesSha256 = rulesSha256;
            Sessions = t.Sessions;
            MessagesAccepted = t.MessagesAccepted;
            BytesAccepted = t.BytesAccepted;
            RecipientsAccepted = t.RecipientsAccepted;
            Refused = t.Refused;
            Deferred = t.Deferred;
            ProtocolTestFailures = t.ProtocolTestFailures;
            Forwarded = t.Forwarded;
            RecipientsDelivered = t.RecipientsDelivered;
            DeliveryDeferred = t.DeliveryDeferred;
            DeliveryFailed = t.DeliveryFailed;
            Bounces = t.Bounces;
            Buckets = buckets;
            RefusalsByReason = refusalsByReason;
            RefusalsByLine = refusalsByLine;
            TopClients = topClients;
            TopSenders = topSenders;
            Dnsbl = dnsbl;
            Greylisting = greylisting;
            Verification = verification;
            Spf = spf;
            DeliveryDelay = deliveryDelay;
            SpoolDepth = spoolDepth;
            UnreadableLines = unreadableLines;
        }

        public string Title { get; }
        /// <summary>The window: events at or after Start and before End.</summary>
        public DateTimeOffset Start { get; }
        public DateTimeOffset End { get; }
        /// <summary>The charts' step.</summary>
        public TimeSpan Interval { get; }
        public TimeZoneInfo DisplayZone { get; }
        public DateTimeOffset Generated { get; }
        /// <summary>The log files that had events in the window.</summary>
        public IReadOnlyList<string> LogFiles { get; }
        /// <summary>The rules versions (SHA-256) that decided in the window.</summary>
        public IReadOnlyList<string> RulesSha256 { get; }
        /// <summary>Sessions that got as far as the greeting.</summary>
        public long Sessions { get; }
        /// <summary>Messages spooled.</summary>
        public long MessagesAccepted { get; }
        public long BytesAccepted { get; }
        public long RecipientsAccepted { get; }
        /// <summary>Refusals for good: recipients, MAIL commands, messages after DATA.</summary>
        public long Refused { get; }
        /// <summary>Refusals for now (4xx): greylisting, failed lookups, limits.</summary>
        public long Deferred { get; }
        /// <summary>Protocol tests failed (pregreet, pipelining, non-SMTP commands, bare newlines).</summary>
        public long ProtocolTestFailures { get; }
        /// <summary>Messages the forwarder delivered in full.</summary>
        public long Forwarded { get; }
        public long RecipientsDelivered { get; }
        /// <summary>Delivery attempts that left recipients for later.</summary>
        public long DeliveryDeferred { get; }
        /// <summary>Delivery attempts that failed recipients for good.</summary>
        public long DeliveryFailed { get; }
        /// <summary>Delivery status notifications sent back.</summary>
        public long Bounces { get; }
        /// <summary>One per interval: the charts' points.</summary>
        public IReadOnlyList<ReportBucket> Buckets { get; }
        public IReadOnlyList<ReportCount> RefusalsByReason { get; }
        /// <summary>The lines that refused or deferred, most first.</summary>
        public IReadOnlyList<ReportRuleLine> RefusalsByLine { get; }
        /// <summary>The clients refused most, with their verified names.</summary>
        public IReadOnlyList<ReportCount> TopClients { get; }
        public IReadOnlyList<ReportCount> TopSenders { get; }
        public IReadOnlyList<ReportDnsblZone> Dnsbl { get; }
        /// <summary>Recipients by what their grey line found (FirstSeen, TooEarly, Passed, Proven, AutoAllowed, Trapped, Unavailable).</summary>
        public IReadOnlyList<ReportCount> Greylisting { get; }
        /// <summary>Recipients by what verification answered (Known, Unknown, Unavailable), with the source that answered.</summary>
        public IReadOnlyList<ReportCount> Verification { get; }
        /// <summary>Recipients by the SPF result of their transaction.</summary>
        public IReadOnlyList<ReportCount> Spf { get; }
        /// <summary>How long delivered messages waited in the spool.</summary>
        public ReportLatency DeliveryDelay { get; }
        /// <summary>Messages in the spool when the report was made, by state; null when no spool was given.</summary>
        public IReadOnlyList<ReportCount> SpoolDepth { get; }
        /// <summary>Log lines that could not be read and were passed over.</summary>
        public long UnreadableLines { get; }
        /// <summary>The file the report was written to; set by the writer.</summary>
        public string Path { get; internal set; }
    }
}
