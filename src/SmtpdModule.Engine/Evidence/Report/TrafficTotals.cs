namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>The window's totals as <see cref="TrafficReportBuilder"/> counts them.</summary>
    internal sealed class TrafficTotals
    {
        public long Sessions, MessagesAccepted, BytesAccepted, RecipientsAccepted, Refused, Deferred, Limits, ProtocolTestFailures;
        public long Forwarded, RecipientsDelivered, DeliveryDeferred, DeliveryFailed, Bounces;
    }
}
