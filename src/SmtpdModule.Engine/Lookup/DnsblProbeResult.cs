using System;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>One probe of a DNSBL's test points (RFC 5782 §5), judged on the raw answers, before any answer filter.</summary>
    public sealed class DnsblProbeResult
    {
        internal DnsblProbeResult(string zone, DnsblHealthStatus status, string detail, bool ipv6,
                                  string testPoint, string negativeTestPoint, string testPointV6, string negativeTestPointV6)
        {
            Zone = zone;
            Status = status;
            Detail = detail;
            IPv6 = ipv6;
            TestPoint = testPoint;
            NegativeTestPoint = negativeTestPoint;
            TestPointV6 = testPointV6;
            NegativeTestPointV6 = negativeTestPointV6;
            Time = DateTimeOffset.UtcNow;
        }

        public string Zone { get; }
        /// <summary>Its tokens may match: Healthy, or not probed yet.</summary>
        public bool Healthy => Status == DnsblHealthStatus.Healthy || Status == DnsblHealthStatus.Unknown;
        public DnsblHealthStatus Status { get; }
        /// <summary>Why, in a few words ("lists 127.0.0.1").</summary>
        public string Detail { get; }
        /// <summary>The list answers its IPv6 test point; false: an IPv4-only list (not a fault).</summary>
        public bool IPv6 { get; }
        /// <summary>The answer for 127.0.0.2 (must be listed): the addresses, NXDOMAIN, or "failed: why".</summary>
        public string TestPoint { get; }
        /// <summary>The answer for 127.0.0.1 (must not be listed).</summary>
        public string NegativeTestPoint { get; }
        /// <summary>The answer for ::FFFF:7F00:2; null when not asked.</summary>
        public string TestPointV6 { get; }
        /// <summary>The answer for ::FFFF:7F00:1; null when not asked.</summary>
        public string NegativeTestPointV6 { get; }
        /// <summary>When the probe ended (UTC).</summary>
        public DateTimeOffset Time { get; }

        internal static DnsblProbeResult NotProbed(string zone) =>
            new DnsblProbeResult(zone, DnsblHealthStatus.Unknown, "not probed yet", false, null, null, null, null);

        /// <summary>The same probe, reported with another status (the guard's view after repeated failures).</summary>
        internal DnsblProbeResult As(DnsblHealthStatus status, string detail) =>
            new DnsblProbeResult(Zone, status, detail, IPv6, TestPoint, NegativeTestPoint, TestPointV6, NegativeTestPointV6);

        /// <summary>A verdict as the control channel carries it: zone, status and detail separated by tabs; null when unreadable.</summary>
        public static DnsblProbeResult FromStatusLine(string line)
        {
            var parts = (line ?? "").Split('\t');
            if (parts.Length < 2 || !Enum.TryParse<DnsblHealthStatus>(parts[1], out var status)) return null;
            return new DnsblProbeResult(parts[0], status, parts.Length > 2 ? parts[2] : null, false, null, null, null, null);
        }

        public override string ToString() => Zone + ": " + Status + (Detail != null ? " (" + Detail + ")" : "");
    }
}
