using System;
using System.Collections.Generic;
using System.Threading;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// The zones a <see cref="DnsblCompanionResolver"/> may ask about a client: those the rules in
    /// force test clients against, less those the DNSBL guard last found unhealthy (which the rules
    /// do not ask either). Worked out again when the rules change.
    /// </summary>
    internal sealed class CompanionZones
    {
        readonly RulesFile _rules;
        readonly Func<IReadOnlyList<DnsblProbeResult>> _health;
        Tuple<RuleSet, IReadOnlyList<string>> _known;

        /// <param name="rules">The rules in force.</param>
        /// <param name="health">The guard's last findings; null or empty with the guard off.</param>
        public CompanionZones(RulesFile rules, Func<IReadOnlyList<DnsblProbeResult>> health)
        {
            _rules = rules ?? throw new ArgumentNullException(nameof(rules));
            _health = health ?? throw new ArgumentNullException(nameof(health));
        }

        public IReadOnlyList<string> Current()
        {
            var set = _rules.Current;
            var known = Volatile.Read(ref _known);
            if (known == null || !ReferenceEquals(known.Item1, set))
            {
                var zones = new List<string>();
                foreach (var zone in DnsblZones.OfClients(set)) zones.Add(zone.TrimEnd('.'));
                known = Tuple.Create(set, (IReadOnlyList<string>)zones);
                Volatile.Write(ref _known, known);
            }
            var health = _health();
            if (health == null || health.Count == 0) return known.Item2;
            List<string> healthy = null;
            for (var i = 0; i < known.Item2.Count; i++)
            {
                var zone = known.Item2[i];
                if (IsHealthy(health, zone)) healthy?.Add(zone);
                else if (healthy == null)
                {
                    healthy = new List<string>(known.Item2.Count);
                    for (var j = 0; j < i; j++) healthy.Add(known.Item2[j]);
                }
            }
            return (IReadOnlyList<string>)healthy ?? known.Item2;
        }

        static bool IsHealthy(IReadOnlyList<DnsblProbeResult> health, string zone)
        {
            foreach (var h in health)
                if (!h.Healthy && string.Equals(h.Zone.TrimEnd('.'), zone, StringComparison.OrdinalIgnoreCase)) return false;
            return true;
        }
    }
}
