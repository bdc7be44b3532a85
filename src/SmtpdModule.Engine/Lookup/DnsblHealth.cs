using System;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// How a zone's health is kept in the state store: the guard writes it, every session's rule check
    /// reads it through its facts (so a decision record carries it and a replay decides the same way).
    /// The value is "Healthy" or the status and why ("ListsEverything lists 127.0.0.1"); no value:
    /// unknown, trusted as the original trusted every list.
    /// </summary>
    public static class DnsblHealth
    {
        const string Prefix = "dnsbl-health:";

        /// <summary>The state key of <paramref name="zone"/>'s health.</summary>
        public static string StateKey(string zone)
        {
            // Every check of a DNSBL token asks its zone's health: the last key is kept (rules name few zones).
            var last = _last;
            if (last != null && ReferenceEquals(last.Zone, zone)) return last.Key;
            var key = Prefix + (zone ?? "").TrimEnd('.').ToLowerInvariant();
            _last = new ZoneKey(zone, key);
            return key;
        }

        sealed class ZoneKey
        {
            public ZoneKey(string zone, string key) { Zone = zone; Key = key; }
            public readonly string Zone, Key;
        }

        static volatile ZoneKey _last;

        /// <summary>The stored value for a probe's verdict.</summary>
        public static string ToStateValue(DnsblProbeResult r) =>
            r.Healthy ? "Healthy" : r.Status + (r.Detail != null ? " " + r.Detail : "");

        /// <summary>Why the zone's tokens must not match, from a stored value; null when they may (healthy or unknown).</summary>
        public static string UnhealthyReason(string value)
        {
            if (string.IsNullOrEmpty(value) || value.StartsWith("Healthy", StringComparison.Ordinal)) return null;
            int space = value.IndexOf(' ');
            return space < 0 ? value : value.Substring(space + 1);
        }
    }
}
