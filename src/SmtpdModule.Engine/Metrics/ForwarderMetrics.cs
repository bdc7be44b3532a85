using System;
using System.Net;
using SmtpdModule.Engine.Forwarding;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// A forwarder's metrics (families <c>smtpfwd_*</c>, listed in about_SmtpdService), read at scrape
    /// time from the forwarder's counters and histograms.
    /// </summary>
    public static class ForwarderMetrics
    {
        /// <summary>Starts a metrics endpoint for <paramref name="forwarder"/> on <paramref name="listen"/>; the
        /// forwarder closes it when it stops, and shows where it listens as <see cref="Forwarder.MetricsEndPoint"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="forwarder"/> or <paramref name="listen"/> is null.</exception>
        /// <exception cref="MetricsListenException">The end point cannot be bound; the forwarder runs on, for its caller to stop.</exception>
        public static MetricsEndpoint Serve(Forwarder forwarder, IPEndPoint listen, MetricsEndpointOptions options = null)
        {
            if (forwarder == null) throw new ArgumentNullException(nameof(forwarder));
            var depth = new SpoolDepthCache(forwarder.SpoolPath, TimeSpan.FromSeconds(1));
            var endpoint = MetricsEndpoint.Start(listen, () => Render(forwarder, depth), options);
            forwarder.AttachMetrics(endpoint.LocalEndPoint, endpoint);
            return endpoint;
        }

        /// <summary>The forwarder's metrics in the text format.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="forwarder"/> or <paramref name="depth"/> is null.</exception>
        public static string Render(Forwarder forwarder, SpoolDepthCache depth)
        {
            if (forwarder == null) throw new ArgumentNullException(nameof(forwarder));
            if (depth == null) throw new ArgumentNullException(nameof(depth));
            var w = new PrometheusTextWriter();
            var c = forwarder.Counters;
            w.Gauge("smtpfwd_start_time_seconds", "When the forwarder started, in seconds since the Unix epoch.", forwarder.StartTime.ToUnixTimeMilliseconds() / 1000.0);
            w.Counter("smtpfwd_attempts_total", "Delivery attempts started (one per message per try).", c.Attempts);
            w.Gauge("smtpfwd_attempts_active", "Messages being delivered now.", c.Active);
            w.Counter("smtpfwd_attempt_outcomes_total", "Finished attempts by outcome: forwarded (every recipient tried was delivered), deferred (some left for a retry), failed (some failed for good, none deferred).");
            w.Sample("smtpfwd_attempt_outcomes_total", c.Forwarded, "outcome", "forwarded");
            w.Sample("smtpfwd_attempt_outcomes_total", c.Deferred, "outcome", "deferred");
            w.Sample("smtpfwd_attempt_outcomes_total", c.Failed, "outcome", "failed");
            w.Counter("smtpfwd_recipients_delivered_total", "Recipients delivered.", c.RecipientsDelivered);
            w.Counter("smtpfwd_bounces_total", "Delivery status notifications (bounces) spooled.", c.Bounced);
            w.Counter("smtpfwd_errors_total", "Spool errors met (unreadable files, failed renames, failed recovery).", c.Errors);
            w.Histogram("smtpfwd_attempt_duration_seconds", "How long each finished delivery attempt took.", c.AttemptDuration.Snapshot());
            w.Histogram("smtpfwd_spool_time_seconds", "Each delivered message's time in the spool, from acceptance to the attempt that finished it.", c.TimeInSpool.Snapshot());
            ProxyMetrics.WriteSpool(w, "smtpfwd", depth);
            return w.ToString();
        }
    }
}
