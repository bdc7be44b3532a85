using System;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>One DNSBL zone in a report's window: how many sessions it was asked about, how many of
    /// those clients it listed, how often asking it failed, and its health as the proxy's probe last found it.</summary>
    public sealed class ReportDnsblZone
    {
        public ReportDnsblZone(string zone, long checkedSessions, long listed, long failed, string health, DateTimeOffset? healthSince, long healthChanges)
        {
            Zone = zone;
            Checked = checkedSessions;
            Listed = listed;
            Failed = failed;
            Health = health;
            HealthSince = healthSince;
            HealthChanges = healthChanges;
        }

        public string Zone { get; }
        /// <summary>Sessions whose client the zone was asked about.</summary>
        public long Checked { get; }
        /// <summary>Of those, the ones it listed.</summary>
        public long Listed { get; }
        /// <summary>Of those, the ones it gave no answer for (timeout, SERVFAIL).</summary>
        public long Failed { get; }
        /// <summary>The probe's last verdict in the window (Healthy, ListsEverything, ...); null when the log has none.</summary>
        public string Health { get; }
        public DateTimeOffset? HealthSince { get; }
        /// <summary>How often the probe's verdict changed in the window.</summary>
        public long HealthChanges { get; }
        /// <summary>The share of checked sessions listed, 0 to 1.</summary>
        public double ListedShare => Checked == 0 ? 0 : (double)Listed / Checked;
    }
}
