using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The DNSBL zones a rules file names (RBL. tokens, in the source list and inside NS=, and score definitions), for the health guard.</summary>
    public static class DnsblZones
    {
        /// <summary>Each zone once (case-insensitive), in the order the file first names it.</summary>
        public static IReadOnlyList<string> Of(RuleSet ruleSet) => Collect(ruleSet, nameServers: true);

        /// <summary>The zones the rules ask about the client itself (<c>RBL.</c> in a source list, a
        /// score's lists), each once, in file order; not those of <c>NS=</c>, which ask about name servers.</summary>
        public static IReadOnlyList<string> OfClients(RuleSet ruleSet) => Collect(ruleSet, nameServers: false);

        static IReadOnlyList<string> Collect(RuleSet ruleSet, bool nameServers)
        {
            if (ruleSet == null) throw new ArgumentNullException(nameof(ruleSet));
            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var zones = new List<string>();
            void Add(IpPattern p)
            {
                if (p != null && p.Kind == IpPattern.PatternKind.Dnsbl && seen.Add(p.DnsblZone)) zones.Add(p.DnsblZone);
            }
            // Score definitions first: an unused one still names lists whose health an admin wants shown.
            foreach (var score in ruleSet.Scores)
                foreach (var entry in score.Entries) Add(entry.List);
            foreach (var rule in ruleSet.Rules)
                foreach (var list in nameServers ? new[] { rule.Source, rule.From, rule.To } : new[] { rule.Source })
                    foreach (var token in list.Tokens)
                    {
                        if (token is SourceToken s) { Add(s.Host.Address); if (nameServers) Add(s.Host.NameServers?.Addresses); }
                        else if (nameServers && token is AddressToken a) Add(a.NameServers?.Addresses);
                    }
            return zones;
        }
    }
}
