using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// Per DNSBL zone: the sessions whose client it was asked about, listed, or not answered for,
    /// read from the DNS facts decisions carry (a query for the client's reversed address under a
    /// zone), and the health the proxy's probe reported (<c>dnsbl</c> events). A session's facts
    /// repeat in each of its decisions; each session counts once per zone.
    /// </summary>
    internal sealed class DnsblTally
    {
        const int MaxSessionsRemembered = 100000;
        const int MaxZones = 1000;

        sealed class Zone
        {
            public long Checked, Listed, Failed, Changes;
            public string Health;
            public DateTimeOffset? Since;
        }

        readonly Dictionary<string, Zone> _zones = new Dictionary<string, Zone>(StringComparer.OrdinalIgnoreCase);
        readonly HashSet<string> _counted = new HashSet<string>(StringComparer.Ordinal);   // session + "\0" + zone

        public void Health(string zone, string status, DateTimeOffset time)
        {
            var z = ZoneOf(zone);
            if (z == null) return;
            if (z.Health != status) z.Changes++;
            if (z.Since == null || time >= z.Since) { z.Health = status; z.Since = time; }
        }

        public void Facts(DecisionRecord r)
        {
            if (r.ClientAddress == null || r.Facts.Count == 0 || !IPAddress.TryParse(r.ClientAddress, out var client)) return;
            var probe = ReverseNames.DnsblName(client, "z");   // "4.3.2.1.z" for 1.2.3.4
            var prefix = probe.Substring(0, probe.Length - 1);
            foreach (var f in r.Facts)
            {
                if (f.Kind != FactKind.Dns || f.RecordType != DnsRecordType.A || f.Name == null) continue;
                if (f.Name.Length <= prefix.Length || !f.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) continue;
                var zoneName = f.Name.Substring(prefix.Length).TrimEnd('.');
                if (zoneName.EndsWith("in-addr.arpa", StringComparison.OrdinalIgnoreCase) || zoneName.EndsWith("ip6.arpa", StringComparison.OrdinalIgnoreCase)) continue;
                if (r.Session != null)
                {
                    if (_counted.Count >= MaxSessionsRemembered) _counted.Clear();   // a session spans few lines of the log
                    if (!_counted.Add(r.Session + "\0" + zoneName)) continue;
                }
                var z = ZoneOf(zoneName);
                if (z == null) continue;
                z.Checked++;
                if (f.Status == nameof(DnsStatus.Ok) && f.Values != null && f.Values.Count > 0)
                {
                    // 127.255.255.0/24 is a list's way of refusing to answer (RFC 5782 practice), not a listing.
                    if (f.Values.All(v => IPAddress.TryParse(v, out var a) && DnsblAnswer.IsErrorCode(a))) z.Failed++;
                    else z.Listed++;
                }
                else if (f.Status == nameof(DnsStatus.Failed)) z.Failed++;
            }
        }

        Zone ZoneOf(string name)
        {
            if (string.IsNullOrEmpty(name)) return null;
            if (!_zones.TryGetValue(name, out var z))
            {
                if (_zones.Count >= MaxZones) return null;
                _zones[name] = z = new Zone();
            }
            return z;
        }

        public IReadOnlyList<ReportDnsblZone> Zones() =>
            _zones.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase)
                  .Select(kv => new ReportDnsblZone(kv.Key, kv.Value.Checked, kv.Value.Listed, kv.Value.Failed, kv.Value.Health, kv.Value.Since, kv.Value.Changes))
                  .ToList();
    }
}
