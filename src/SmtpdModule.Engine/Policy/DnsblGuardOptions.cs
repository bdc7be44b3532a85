using System;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>How often the DNSBL health guard probes, and when a list that does not answer counts as unhealthy.</summary>
    public sealed class DnsblGuardOptions
    {
        /// <summary>Probe every zone the rules name at start, at every reload and then this often (default 5 minutes).</summary>
        public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);
        /// <summary>After a probe that was not answered, the next comes this soon (default 30 s, never later than <see cref="Interval"/>).</summary>
        public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(30);
        /// <summary>Probes not answered in a row before the list is unhealthy (default 3; one timeout alone is a lost packet).</summary>
        public int FailuresUnhealthy { get; set; } = 3;
        /// <summary>Off: no probes, every zone's health unknown (the original's behaviour).</summary>
        public bool Enabled { get; set; } = true;

        public DnsblGuardOptions Clone() => (DnsblGuardOptions)MemberwiseClone();

        internal void Validate()
        {
            if (Interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(Interval), "must be positive");
            if (RetryInterval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RetryInterval), "must be positive");
            if (FailuresUnhealthy < 1) throw new ArgumentOutOfRangeException(nameof(FailuresUnhealthy), "must be at least 1");
        }
    }
}
