using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// Folds the events of a proxy's and a forwarder's logs (<see cref="LogReader"/>) into a
    /// <see cref="TrafficReport"/>, in one pass and bounded memory: counters, top lists capped by
    /// <see cref="TopCounts"/>, and the acceptance times that a delivery's wait is measured from.
    /// Events outside the window are passed over; the order of events does not matter (the proxy's and
    /// the forwarder's logs may come in either order: a delivery's wait pairs its two ends either way).
    /// </summary>
    public sealed class TrafficReportBuilder
    {
        /// <summary>Ends of a wait in the spool kept until their other end is read; past it, a delivery is not measured.</summary>
        const int MaxPendingEnds = 500000;
        const int MaxDelaySamples = 1000000;

        readonly TrafficReportOptions _options;
        readonly ReportBucket[] _buckets;
        readonly RefusalReason _reasons = new RefusalReason();
        readonly TopCounts _byReason = new TopCounts(), _clients = new TopCounts(), _senders = new TopCounts(StringComparer.OrdinalIgnoreCase);
        readonly TopCounts _grey = new TopCounts(), _verify = new TopCounts(), _spf = new TopCounts(StringComparer.OrdinalIgnoreCase);
        readonly Dictionary<string, long[]> _lines = new Dictionary<string, long[]>(StringComparer.Ordinal);   // "line\0text" -> refused, deferred
        readonly DnsblTally _dnsbl = new DnsblTally();
        readonly Dictionary<string, DateTimeOffset> _acceptedAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        readonly Dictionary<string, DateTimeOffset> _deliveredAt = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        readonly List<double> _delays = new List<double>();
        readonly HashSet<string> _files = new HashSet<string>(StringComparer.Ordinal);
        readonly HashSet<string> _rules = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        readonly TrafficTotals _t = new TrafficTotals();

        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        public TrafficReportBuilder(TrafficReportOptions options)
        {
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _buckets = new ReportBucket[options.BucketCount];
            for (var i = 0; i < _buckets.Length; i++)
                _buckets[i] = new ReportBucket(options.Start + TimeSpan.FromTicks(options.Interval.Ticks * i),
                                               i == _buckets.Length - 1 ? options.End - (options.Start + TimeSpan.FromTicks(options.Interval.Ticks * i)) : options.Interval);
        }

        /// <summary>Lines the caller passed over as unreadable, for the report's footnote.</summary>
        public long UnreadableLines { get; set; }

        /// <summary>Counts one event; one outside the window is passed over.</summary>
        public void Add(LogEvent e)
        {
            if (e == null) throw new ArgumentNullException(nameof(e));
            var bucket = BucketOf(e.Time);
            if (bucket == null) return;
            if (e.Path != null) _files.Add(e.Path);
            switch (e.Kind)
            {
                case "connect": _t.Sessions++; break;
                case "accepted":
                    _t.MessagesAccepted++;
                    bucket.Accepted++;
                    _t.BytesAccepted += Long(e, "bytes");
                    var id = Text(e, "id") ?? e.Message;
                    if (id != null) Wait(id, accepted: e.Time, delivered: null);
                    break;
                case "decision": Decision((LogDecision)e, bucket); break;
                case "rejected": Refusal(bucket, RefusalReason.Data, DecisionOutcome.Refused); break;
                case "limit":
                    // A limit refuses for now (421, 450, 452): a session at the door or a recipient over a rate.
                    _t.Limits++;
                    Refusal(bucket, RefusalReason.Limit, DecisionOutcome.Deferred);
                    break;
                case "protocol": _t.ProtocolTestFailures++; break;
                case "dnsbl": _dnsbl.Health(Text(e, "zone"), Text(e, "status"), e.Time); break;
                case "forwarded":
                case "deferred":
                case "failed": Delivery(e, bucket); break;
            }
        }

        ReportBucket BucketOf(DateTimeOffset time)
        {
            if (time < _options.Start || time >= _options.End) return null;
            var i = (time - _options.Start).Ticks / _options.Interval.Ticks;
            return _buckets[Math.Min(i, _buckets.Length - 1)];
        }

        void Decision(LogDecision d, ReportBucket bucket)
        {
            var r = d.Record;
            if (r.RulesSha256 != null) _rules.Add(r.RulesSha256);
            _dnsbl.Facts(r);
            if (r.Stage == PolicyStage.Rcpt) Checks(r);
            if (d.Outcome == DecisionOutcome.Accepted)
            {
                if (r.Stage == PolicyStage.Rcpt) _t.RecipientsAccepted++;
                return;
            }
            Refusal(bucket, _reasons.Of(r, d.Outcome), d.Outcome);
            if (r.Line != null)
            {
                var key = r.Line.Value.ToString(CultureInfo.InvariantCulture) + "\0" + r.Rule;
                if (!_lines.TryGetValue(key, out var row))
                {
                    if (_lines.Count >= TopCounts.MaxKeys) return;
                    _lines[key] = row = new long[2];
                }
                row[d.Outcome == DecisionOutcome.Deferred ? 1 : 0]++;
            }
            _clients.Add(r.ClientAddress ?? d.Client, r.ClientName);
            if (r.From != null) _senders.Add(r.From);
        }

        void Refusal(ReportBucket bucket, string reason, DecisionOutcome outcome)
        {
            _byReason.Add(reason);
            if (outcome == DecisionOutcome.Deferred) { bucket.Deferred++; _t.Deferred++; }
            else { bucket.Refused++; _t.Refused++; }
        }

        /// <summary>The other checks' results a recipient's decision carries: one count per recipient.</summary>
        void Checks(DecisionRecord r)
        {
            if (r.Results.TryGetValue("grey", out var grey) && grey != null) _grey.Add(FirstWord(grey));
            if (r.Results.TryGetValue("verify", out var said) && said != null)
            {
                // "source: Status (detail)", sources tried in turn joined by " -> ": the last one answered.
                var arrow = said.LastIndexOf(" -> ", StringComparison.Ordinal);
                var last = (arrow < 0 ? said : said.Substring(arrow + 4)).Trim();
                var colon = last.IndexOf(": ", StringComparison.Ordinal);
                _verify.Add(colon < 0 ? FirstWord(last) : FirstWord(last.Substring(colon + 2)), colon < 0 ? null : last.Substring(0, colon));
            }
            if (r.Results.TryGetValue("spf", out var spf) && spf != null) _spf.Add(FirstWord(spf).ToLowerInvariant());
        }

        void Delivery(LogEvent e, ReportBucket bucket)
        {
            var delivered = Long(e, "delivered");
            _t.RecipientsDelivered += delivered;
            bucket.Delivered += delivered;
            switch (e.Kind)
            {
                case "forwarded": _t.Forwarded++; break;
                case "deferred": _t.DeliveryDeferred++; bucket.DeliveryDeferred++; break;
                default: _t.DeliveryFailed++; break;
            }
            if (Text(e, "bounce") != null) { _t.Bounces++; bucket.Bounced++; }
            if (e.Kind != "deferred" && e.Session != null) Wait(e.Session, accepted: null, delivered: e.Time);
        }

        /// <summary>One end of message <paramref name="id"/>'s wait in the spool; with both, the wait is measured.</summary>
        void Wait(string id, DateTimeOffset? accepted, DateTimeOffset? delivered)
        {
            var mine = accepted != null ? _acceptedAt : _deliveredAt;
            var other = accepted != null ? _deliveredAt : _acceptedAt;
            if (other.TryGetValue(id, out var end))
            {
                other.Remove(id);
                var wait = accepted != null ? end - accepted.Value : delivered.Value - end;
                if (_delays.Count < MaxDelaySamples) _delays.Add(Math.Max(0, wait.TotalSeconds));
            }
            else if (mine.Count < MaxPendingEnds) mine[id] = (accepted ?? delivered).Value;
        }

        static string FirstWord(string s)
        {
            s = s.Trim();
            var space = s.IndexOf(' ');
            return space < 0 ? s : s.Substring(0, space);
        }

        static string Text(LogEvent e, string key) =>
            e.Data != null && e.Data.TryGetValue(key, out var v) && v != null ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;

        static long Long(LogEvent e, string key)
        {
            if (e.Data == null || !e.Data.TryGetValue(key, out var v) || v == null) return 0;
            switch (v)
            {
                case long l: return l;
                case double d: return (long)d;
                case int i: return i;
                default: return long.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;
            }
        }

        /// <summary>The report of everything added.</summary>
        /// <param name="spoolDepth">Messages in the spool now, by state; null when no spool was looked at.</param>
        public TrafficReport Build(IReadOnlyList<ReportCount> spoolDepth = null)
        {
            var top = _options.Top;
            var lines = _lines.Select(kv =>
                {
                    var zero = kv.Key.IndexOf('\0');
                    return new ReportRuleLine(int.Parse(kv.Key.Substring(0, zero), CultureInfo.InvariantCulture), kv.Key.Substring(zero + 1), kv.Value[0], kv.Value[1]);
                })
                .OrderByDescending(l => l.Total).ThenBy(l => l.Line).ToList();
            return new TrafficReport(_options, DateTimeOffset.UtcNow, _files.OrderBy(f => f, StringComparer.Ordinal).ToList(),
                                     _rules.OrderBy(s => s, StringComparer.Ordinal).ToList(), _t, _buckets,
                                     _byReason.All, lines, _clients.Top(top), _senders.Top(top), _dnsbl.Zones(),
                                     _grey.All, _verify.All, _spf.All, ReportLatency.Of(_delays), spoolDepth, UnreadableLines);
        }
    }
}
