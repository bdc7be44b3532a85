using System;
using System.Linq;
using System.Net;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Asks a DNSBL about its RFC 5782 §5 test points: 127.0.0.2 must be listed, 127.0.0.1 must not;
    /// for IPv6, ::FFFF:7F00:2 and ::FFFF:7F00:1 in nibble form. The raw answers are judged, before
    /// any answer filter, so a token that wants one sub-list does not make the whole zone look dead.
    /// </summary>
    /// <remarks>
    /// A list that does not answer the IPv6 test point is an IPv4-only list, not a broken one (most
    /// lists are IPv4-only); only its IPv6 negative point counts against it. A list that lists
    /// 127.0.0.1, answers 127.255.255.0/24 on a test point, or cannot be asked, is unhealthy; one
    /// that does not list 127.0.0.2 (RFC 5782 §5 requires it) is too.
    /// </remarks>
    public static class DnsblProbe
    {
        static readonly IPAddress Listed = IPAddress.Parse("127.0.0.2"), NotListed = IPAddress.Parse("127.0.0.1");

        /// <summary>Probes <paramref name="zone"/> once: four A questions, asked together.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="dns"/> or <paramref name="zone"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="zone"/> is not a DNS zone name.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static async Task<DnsblProbeResult> ProbeAsync(IDnsResolver dns, string zone, CancellationToken cancellationToken = default)
        {
            if (dns == null) throw new ArgumentNullException(nameof(dns));
            if (zone == null) throw new ArgumentNullException(nameof(zone));
            zone = zone.TrimEnd('.');
            var names = new[]
            {
                ReverseNames.DnsblName(Listed, zone), ReverseNames.DnsblName(NotListed, zone),
                MappedNibbles(2) + zone, MappedNibbles(1) + zone,
            };
            var answers = (await Task.WhenAll(names.Select(n => dns.QueryAsync(n, DnsRecordType.A, cancellationToken))).ConfigureAwait(false))
                .Select(DnsblAnswer.From).ToArray();
            return Judge(zone, answers[0], answers[1], answers[2], answers[3]);
        }

        /// <summary>Why <paramref name="zone"/> cannot be a DNSBL zone (empty label, a character no host name has,
        /// too long); null when it can. A trailing dot is allowed.</summary>
        public static string CheckZone(string zone)
        {
            if (string.IsNullOrWhiteSpace(zone)) return "the zone is empty";
            var z = zone.EndsWith(".", StringComparison.Ordinal) ? zone.Substring(0, zone.Length - 1) : zone;
            if (z.Length == 0 || z.Length > 200) return "'" + zone + "' is not a DNS zone name: empty or too long for a DNSBL question";
            foreach (var label in z.Split('.'))
            {
                if (label.Length == 0 || label.Length > 63) return "'" + zone + "' has an empty or over-long label";
                if (label.Any(c => !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_')))
                    return "'" + zone + "' has a character no zone name has (letters, digits, '-', '_' and '.' only; an answer filter belongs in the rules, not here)";
            }
            return null;
        }

        static DnsblProbeResult Judge(string zone, DnsblAnswer yes, DnsblAnswer no, DnsblAnswer yes6, DnsblAnswer no6)
        {
            bool ipv6 = yes6.Outcome == LookupOutcome.Found;
            DnsblHealthStatus status;
            string detail;
            var error = new[] { yes, no, yes6, no6 }.FirstOrDefault(a => a.ErrorCodes.Count > 0);
            if (yes.Outcome == LookupOutcome.Failed || no.Outcome == LookupOutcome.Failed)
            {
                status = DnsblHealthStatus.Timeout;
                detail = "test point not answered: " + (yes.Error ?? no.Error);
            }
            else if (error != null)
            {
                status = DnsblHealthStatus.ErrorAnswers;
                detail = "answers error code " + error.ErrorCodes[0];
            }
            else if (no.Outcome == LookupOutcome.Found || (ipv6 && no6.Outcome == LookupOutcome.Found))
            {
                status = DnsblHealthStatus.ListsEverything;
                detail = no.Outcome == LookupOutcome.Found ? "lists 127.0.0.1" : "lists ::FFFF:7F00:1";
            }
            else if (yes.Outcome != LookupOutcome.Found)
            {
                status = DnsblHealthStatus.NotListing;
                detail = "does not list 127.0.0.2";
            }
            else
            {
                status = DnsblHealthStatus.Healthy;
                detail = ipv6 ? "IPv4 and IPv6 test points answered" : "IPv4 test points answered (IPv4-only list)";
            }
            return new DnsblProbeResult(zone, status, detail, ipv6, Show(yes), Show(no), Show(yes6), Show(no6));
        }

        static string Show(DnsblAnswer a) =>
            a.Outcome == LookupOutcome.Failed ? "failed: " + a.Error : a.Raw.Count == 0 ? "not listed" : string.Join(", ", a.Raw);

        /// <summary>The nibble-reversed name of ::FFFF:127.0.0.<paramref name="last"/>, with a trailing dot.</summary>
        static string MappedNibbles(int last)
        {
            var bytes = new byte[16];
            bytes[10] = bytes[11] = 0xFF;
            bytes[12] = 127;
            bytes[15] = (byte)last;
            var sb = new StringBuilder(64);
            for (int i = 15; i >= 0; i--)
                sb.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
            return sb.ToString();
        }
    }
}
