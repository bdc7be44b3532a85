using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// A <see cref="TrafficReport"/> as one self-contained HTML page: inline style, inline SVG charts,
    /// no script and nothing fetched (its Content-Security-Policy forbids every load, so a browser
    /// reports any that slipped in). Every chart has a table with its numbers, for mail clients that
    /// show tables but not SVG.
    /// </summary>
    public static class ReportHtmlWriter
    {
        const string Green = "#2e7d32", Red = "#c62828", Amber = "#ef8f00", Blue = "#1565c0", Grey = "#6d4c41";

        /// <summary>The page.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="report"/> is null.</exception>
        public static string Render(TrafficReport report)
        {
            if (report == null) throw new ArgumentNullException(nameof(report));
            var z = report.DisplayZone;
            var h = new StringBuilder(64 * 1024);
            var window = HtmlText.Time(report.Start, z) + " to " + HtmlText.Time(report.End, z) + " " + HtmlText.Zone(z, report.Start);
            h.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
             .Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
             .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
             .Append("<title>").Append(HtmlText.Escape(report.Title + ", " + window)).Append("</title>")
             .Append("<style>").Append(Style).Append("</style></head>\n<body>\n");
            h.Append("<h1>").Append(HtmlText.Escape(report.Title)).Append("</h1>\n<p class=\"window\">")
             .Append(HtmlText.Escape(window)).Append(", in steps of ").Append(HtmlText.Interval(report.Interval)).Append("</p>\n");

            Summary(h, report);

            h.Append("<h2>Mail received</h2>\n");
            SvgTimeChart.Write(h, "mail", "Messages accepted, refusals and deferrals over time", report.Buckets, z,
                new SvgTimeChart.Series("accepted", "Accepted messages", Green, b => b.Accepted),
                new SvgTimeChart.Series("refused", "Refused", Red, b => b.Refused),
                new SvgTimeChart.Series("deferred", "Deferred", Amber, b => b.Deferred));
            BucketTable(h, "mail", report, new[] { "Accepted messages", "Refused", "Deferred" }, b => new[] { b.Accepted, b.Refused, b.Deferred });

            h.Append("<h2>Why mail was refused or deferred</h2>\n");
            Counts(h, "reasons", report.RefusalsByReason, "Reason", null, "Refused or deferred", withShare: true);
            h.Append("<h3>By rule line</h3>\n");
            RuleLines(h, report.RefusalsByLine);
            h.Append("<h3>Clients refused most</h3>\n");
            Counts(h, "clients", report.TopClients, "Client", "Verified name", "Refusals");
            h.Append("<h3>Senders refused most</h3>\n");
            Counts(h, "senders", report.TopSenders, "Sender", null, "Refusals");

            h.Append("<h2>DNS block lists</h2>\n");
            Dnsbl(h, report);
            h.Append("<h2>Greylisting</h2>\n<p class=\"note\">Recipients by what their grey line found. FirstSeen and TooEarly were deferred; Passed, Proven and AutoAllowed went on.</p>\n");
            Counts(h, "greylisting", report.Greylisting, "State", null, "Recipients", withShare: true);
            h.Append("<h2>Recipient verification</h2>\n");
            Counts(h, "verification", report.Verification, "Answer", "Source", "Recipients", withShare: true);
            if (report.Spf.Count > 0)
            {
                h.Append("<h2>SPF</h2>\n");
                Counts(h, "spf", report.Spf, "Result", null, "Recipients", withShare: true);
            }

            h.Append("<h2>Delivery to the mail server</h2>\n");
            SvgTimeChart.Write(h, "delivery", "Recipients delivered, attempts deferred and bounces over time", report.Buckets, z,
                new SvgTimeChart.Series("delivered", "Recipients delivered", Blue, b => b.Delivered),
                new SvgTimeChart.Series("deferred", "Attempts deferred", Amber, b => b.DeliveryDeferred),
                new SvgTimeChart.Series("bounced", "Bounces", Grey, b => b.Bounced));
            Delivery(h, report);
            BucketTable(h, "delivery", report, new[] { "Recipients delivered", "Attempts deferred", "Bounces" }, b => new[] { b.Delivered, b.DeliveryDeferred, b.Bounced });

            h.Append("<h2>Spool</h2>\n");
            if (report.SpoolDepth == null) h.Append("<p class=\"none\">No spool was given (Export-SmtpdReport -SpoolPath).</p>\n");
            else Counts(h, "spool", report.SpoolDepth, "State", null, "Messages now");

            Footer(h, report);
            h.Append("</body></html>\n");
            return h.ToString();
        }

        /// <summary>Writes the page to <paramref name="path"/> whole or not at all: a mail job that attaches
        /// it never sends half a report. Sets <see cref="TrafficReport.Path"/>.</summary>
        /// <exception cref="IOException">The file cannot be written.</exception>
        /// <exception cref="UnauthorizedAccessException">The file may not be written.</exception>
        public static void Write(TrafficReport report, string path)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            var html = Render(report);
            var full = System.IO.Path.GetFullPath(path);
            var temp = full + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            try
            {
                File.WriteAllText(temp, html, new UTF8Encoding(false));
                if (File.Exists(full)) File.Replace(temp, full, null);
                else File.Move(temp, full);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            report.Path = full;
        }

        static void Summary(StringBuilder h, TrafficReport r)
        {
            var inSpool = r.SpoolDepth?.Sum(c => c.Count);
            var tiles = new List<KeyValuePair<string, string>>
            {
                Tile("Sessions", r.Sessions), Tile("Messages accepted", r.MessagesAccepted), Tile("Recipients accepted", r.RecipientsAccepted),
                Tile("Refused", r.Refused), Tile("Deferred", r.Deferred), Tile("Recipients delivered", r.RecipientsDelivered),
                Tile("Bounces", r.Bounces),
                new KeyValuePair<string, string>("In the spool", inSpool == null ? "–" : HtmlText.Number(inSpool.Value)),
            };
            h.Append("<table class=\"summary\"><tr>");
            foreach (var t in tiles) h.Append("<th>").Append(t.Key).Append("</th>");
            h.Append("</tr><tr>");
            foreach (var t in tiles) h.Append("<td>").Append(t.Value).Append("</td>");
            h.Append("</tr></table>\n");
        }

        static KeyValuePair<string, string> Tile(string label, long n) => new KeyValuePair<string, string>(label, HtmlText.Number(n));

        static void BucketTable(StringBuilder h, string id, TrafficReport r, string[] headings, Func<ReportBucket, long[]> values)
        {
            h.Append("<details><summary>The numbers</summary><table class=\"numbers\" data-table=\"").Append(id).Append("\"><tr><th>From</th>");
            foreach (var heading in headings) h.Append("<th>").Append(heading).Append("</th>");
            h.Append("</tr>");
            foreach (var b in r.Buckets)
            {
                h.Append("<tr><td>").Append(HtmlText.Time(b.Start, r.DisplayZone)).Append("</td>");
                foreach (var v in values(b)) h.Append("<td class=\"n\">").Append(HtmlText.Number(v)).Append("</td>");
                h.Append("</tr>");
            }
            h.Append("</table></details>\n");
        }

        static void Counts(StringBuilder h, string id, IReadOnlyList<ReportCount> rows, string keyHeading, string detailHeading, string countHeading, bool withShare = false)
        {
            if (rows.Count == 0) { h.Append("<p class=\"none\" data-table=\"").Append(id).Append("\">None in this window.</p>\n"); return; }
            var total = rows.Sum(c => c.Count);
            h.Append("<table data-table=\"").Append(id).Append("\"><tr><th>").Append(keyHeading).Append("</th>");
            if (detailHeading != null) h.Append("<th>").Append(detailHeading).Append("</th>");
            h.Append("<th>").Append(countHeading).Append("</th>");
            if (withShare) h.Append("<th>Share</th>");
            h.Append("</tr>");
            foreach (var c in rows)
            {
                h.Append("<tr><td>").Append(HtmlText.Escape(c.Key)).Append("</td>");
                if (detailHeading != null) h.Append("<td>").Append(HtmlText.Escape(c.Detail)).Append("</td>");
                h.Append("<td class=\"n\">").Append(HtmlText.Number(c.Count)).Append("</td>");
                if (withShare) Share(h, total == 0 ? 0 : (double)c.Count / total);
                h.Append("</tr>");
            }
            h.Append("</table>\n");
        }

        static void Share(StringBuilder h, double share) =>
            h.Append("<td class=\"share\"><span class=\"bar\" style=\"width:").Append(HtmlText.Coordinate(Math.Round(share * 100, 1)))
             .Append("%\"></span> ").Append(HtmlText.Percent(share)).Append("</td>");

        static void RuleLines(StringBuilder h, IReadOnlyList<ReportRuleLine> lines)
        {
            if (lines.Count == 0) { h.Append("<p class=\"none\" data-table=\"lines\">No line refused in this window.</p>\n"); return; }
            h.Append("<table data-table=\"lines\"><tr><th>Line</th><th>Rule</th><th>Refused</th><th>Deferred</th></tr>");
            foreach (var l in lines)
                h.Append("<tr><td class=\"n\">").Append(l.Line).Append("</td><td><code>").Append(HtmlText.Escape(l.Rule)).Append("</code></td><td class=\"n\">")
                 .Append(HtmlText.Number(l.Refused)).Append("</td><td class=\"n\">").Append(HtmlText.Number(l.Deferred)).Append("</td></tr>");
            h.Append("</table>\n");
        }

        static void Dnsbl(StringBuilder h, TrafficReport r)
        {
            if (r.Dnsbl.Count == 0) { h.Append("<p class=\"none\" data-table=\"dnsbl\">No DNS block list was asked in this window.</p>\n"); return; }
            h.Append("<table data-table=\"dnsbl\"><tr><th>Zone</th><th>Sessions checked</th><th>Listed</th><th>Listed share</th><th>No answer</th><th>Health</th></tr>");
            foreach (var d in r.Dnsbl)
            {
                var unhealthy = d.Health != null && d.Health != "Healthy";
                h.Append("<tr").Append(unhealthy || d.Failed > 0 ? " class=\"warn\"" : "").Append("><td>").Append(HtmlText.Escape(d.Zone)).Append("</td><td class=\"n\">")
                 .Append(HtmlText.Number(d.Checked)).Append("</td><td class=\"n\">").Append(HtmlText.Number(d.Listed)).Append("</td>");
                Share(h, d.ListedShare);
                h.Append("<td class=\"n\">").Append(HtmlText.Number(d.Failed)).Append("</td><td>")
                 .Append(d.Health == null ? "no probe in this window" : HtmlText.Escape(d.Health) + " since " + HtmlText.Time(d.HealthSince.Value, r.DisplayZone))
                 .Append(d.HealthChanges > 1 ? " (" + d.HealthChanges + " changes)" : "").Append("</td></tr>");
            }
            h.Append("</table>\n");
        }

        static void Delivery(StringBuilder h, TrafficReport r)
        {
            var d = r.DeliveryDelay;
            h.Append("<table data-table=\"delivery-totals\"><tr><th>Messages delivered</th><th>Recipients delivered</th><th>Attempts deferred</th><th>Attempts failed</th><th>Bounces</th>")
             .Append("<th>Wait in the spool: median</th><th>90th percentile</th><th>longest</th></tr><tr>")
             .Append("<td class=\"n\">").Append(HtmlText.Number(r.Forwarded)).Append("</td><td class=\"n\">").Append(HtmlText.Number(r.RecipientsDelivered))
             .Append("</td><td class=\"n\">").Append(HtmlText.Number(r.DeliveryDeferred)).Append("</td><td class=\"n\">").Append(HtmlText.Number(r.DeliveryFailed))
             .Append("</td><td class=\"n\">").Append(HtmlText.Number(r.Bounces)).Append("</td><td class=\"n\">").Append(HtmlText.Seconds(d.Median))
             .Append("</td><td class=\"n\">").Append(HtmlText.Seconds(d.Percentile90)).Append("</td><td class=\"n\">").Append(HtmlText.Seconds(d.Maximum))
             .Append("</td></tr></table>\n");
        }

        static void Footer(StringBuilder h, TrafficReport r)
        {
            h.Append("<p class=\"foot\">Made by Export-SmtpdReport at ").Append(HtmlText.Time(r.Generated, r.DisplayZone)).Append(' ').Append(HtmlText.Zone(r.DisplayZone, r.Generated))
             .Append(". Logs read: ").Append(r.LogFiles.Count == 0 ? "none with events in the window" : HtmlText.Escape(string.Join(", ", r.LogFiles.Select(System.IO.Path.GetFileName))))
             .Append(". Rules versions (SHA-256): ").Append(r.RulesSha256.Count == 0 ? "none" : HtmlText.Escape(string.Join(", ", r.RulesSha256.Select(s => s.Length > 12 ? s.Substring(0, 12) : s))));
            if (r.UnreadableLines > 0) h.Append(". Unreadable lines passed over: ").Append(HtmlText.Number(r.UnreadableLines));
            h.Append(".</p>\n");
        }

        const string Style =
            "body{font-family:'DejaVu Sans',Segoe UI,Helvetica,Arial,sans-serif;color:#222;margin:24px;max-width:1000px}" +
            "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd}h3{font-size:15px;margin:18px 0 6px}" +
            ".window,.note,.foot,.none{color:#555;font-size:13px}" +
            "table{border-collapse:collapse;font-size:13px;margin:4px 0}th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}" +
            "th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.warn td{background:#fff3e0}" +
            "table.summary td{font-size:20px;text-align:center}" +
            ".share{white-space:nowrap;min-width:140px}.bar{display:inline-block;height:10px;background:#90a4ae;vertical-align:middle}" +
            "code{font-size:12px;word-break:break-all}svg.chart{max-width:960px;display:block}" +
            ".grid{stroke:#e0e0e0}.axis,.legend{font-size:12px;fill:#444}details{margin:4px 0 8px}summary{cursor:pointer;font-size:13px;color:#1565c0}";
    }
}
