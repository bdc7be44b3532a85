using System;
using System.Net;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Smtp;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// A proxy's metrics (families <c>smtpd_*</c>, listed in about_SmtpdService), read at scrape time
    /// from the counters the proxy keeps anyway: a scrape costs the sessions nothing but the reads.
    /// </summary>
    public static class ProxyMetrics
    {
        static readonly string[] DnsblStatusNames = Array.ConvertAll(Enum.GetNames(typeof(DnsblHealthStatus)), LabelText.Snake);

        /// <summary>Starts a metrics endpoint for <paramref name="proxy"/> on <paramref name="listen"/>; the proxy
        /// closes it when it stops, and shows where it listens as <see cref="SmtpProxy.MetricsEndPoint"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="proxy"/> or <paramref name="listen"/> is null.</exception>
        /// <exception cref="MetricsListenException">The end point cannot be bound; the proxy runs on, for its caller to stop.</exception>
        public static MetricsEndpoint Serve(SmtpProxy proxy, IPEndPoint listen, MetricsEndpointOptions options = null)
        {
            if (proxy == null) throw new ArgumentNullException(nameof(proxy));
            var depth = new SpoolDepthCache(proxy.SpoolPath, TimeSpan.FromSeconds(1));
            var endpoint = MetricsEndpoint.Start(listen, () => Render(proxy, depth), options);
            proxy.AttachMetrics(endpoint.LocalEndPoint, endpoint);
            return endpoint;
        }

        /// <summary>The proxy's metrics in the text format.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="proxy"/> or <paramref name="depth"/> is null.</exception>
        public static string Render(SmtpProxy proxy, SpoolDepthCache depth)
        {
            if (proxy == null) throw new ArgumentNullException(nameof(proxy));
            if (depth == null) throw new ArgumentNullException(nameof(depth));
            var w = new PrometheusTextWriter();
            var c = proxy.Counters;
            w.Gauge("smtpd_start_time_seconds", "When the proxy started, in seconds since the Unix epoch.", proxy.StartTime.ToUnixTimeMilliseconds() / 1000.0);
            w.Counter("smtpd_sessions_total", "SMTP sessions accepted since start.", c.Sessions);
            w.Gauge("smtpd_sessions_active", "SMTP sessions open now.", c.Active);
            w.Counter("smtpd_sessions_denied_total", "Sessions closed by a deny line or an enforced protocol test.", c.Denied);
            w.Counter("smtpd_messages_accepted_total", "Messages committed to the spool (answered 250 at end of data).", c.Accepted);
            w.Counter("smtpd_message_bytes_accepted_total", "Bytes of the messages committed to the spool.", c.Bytes);
            w.Counter("smtpd_recipients_refused_total", "Recipients refused by the rules or the address check, the session going on.", c.Refused);
            WriteRuleHits(w, proxy.RuleHits);
            w.Counter("smtpd_check_results_total", "Results of the checks behind RCPT verdicts: the SPF result in force and the grey line's finding per recipient decided, and each answer of recipient verification.");
            foreach (var (check, result, count) in proxy.CheckResults.Read())
                w.Sample("smtpd_check_results_total", count, "check", check,
                         "result", check == CheckResultCounter.SpfCheck ? result.ToLowerInvariant() : LabelText.Snake(result));
            w.Gauge("smtpd_dnsbl_status", "Each DNSBL zone's health as its last test-point probe found it: 1 for the status it is in, 0 for the others.");
            foreach (var zone in proxy.DnsblZones)
                for (var s = 0; s < DnsblStatusNames.Length; s++)
                    w.Sample("smtpd_dnsbl_status", (int)zone.Status == s ? 1 : 0, "zone", zone.Zone, "status", DnsblStatusNames[s]);
            WriteSpool(w, "smtpd", depth);
            var sc = proxy.SpoolCounters;
            w.Counter("smtpd_spool_commits_total", "Messages committed to the spool (written, flushed, fsynced and renamed into ready/).", sc.Commits);
            w.Counter("smtpd_spool_commit_failures_total", "Commits to the spool that failed (the client was not told 250).", sc.Failures);
            w.Counter("smtpd_spool_directory_fsyncs_total", "Directory fsyncs made for commits (group commit serves several commits with one; 0 on Windows).", sc.DirectoryFsyncs);
            w.Counter("smtpd_spool_directory_sync_requests_total", "Directory syncs the commits asked for.", sc.DirectorySyncRequests);
            return w.ToString();
        }

        static void WriteRuleHits(PrometheusTextWriter w, RuleHitSnapshot hits)
        {
            w.Counter("smtpd_recipient_verdicts_total", "RCPT verdicts by deciding rule line (line empty when no line decided), by basis and by verdict.");
            foreach (var h in hits.All)
            {
                var line = h.Line == null ? "" : LabelText.Of(h.Line.Value);
                var basis = LabelText.Snake(h.Basis.ToString());
                w.Sample("smtpd_recipient_verdicts_total", h.Accepted, "line", line, "basis", basis, "verdict", "accepted");
                w.Sample("smtpd_recipient_verdicts_total", h.Refused, "line", line, "basis", basis, "verdict", "refused");
                w.Sample("smtpd_recipient_verdicts_total", h.Deferred, "line", line, "basis", basis, "verdict", "deferred");
                w.Sample("smtpd_recipient_verdicts_total", h.Closed, "line", line, "basis", basis, "verdict", "closed");
            }
            w.Gauge("smtpd_rule_info", "The rules in force: one series per line, value 1, with the line's text.");
            foreach (var h in hits.Lines)
                if (h.Line != null) w.Sample("smtpd_rule_info", 1, "line", LabelText.Of(h.Line.Value), "rule", h.Rule ?? "");
        }

        /// <summary>The <c>&lt;prefix&gt;_spool_messages{state}</c> family; states that cannot be listed are left out.</summary>
        internal static void WriteSpool(PrometheusTextWriter w, string prefix, SpoolDepthCache depth)
        {
            var name = prefix + "_spool_messages";
            w.Gauge(name, "Messages in the spool by state (ready, active, deferred, held, failed, corrupt), counted at most once a second.");
            var counts = depth.Read();
            for (var i = 0; i < counts.Length; i++)
                if (counts[i] >= 0) w.Sample(name, counts[i], "state", SpoolDepthCache.StateNames[i]);
        }
    }
}
