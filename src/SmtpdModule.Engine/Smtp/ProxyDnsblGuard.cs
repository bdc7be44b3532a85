using System.Collections.Generic;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>The proxy's DNSBL health guard: the zones of the rules in force, followed across reloads, each change an event.</summary>
    internal static class ProxyDnsblGuard
    {
        /// <summary>Starts the guard on the rules in force (null when the options turn it off).</summary>
        public static DnsblGuard Start(SmtpProxyOptions options, IDnsResolver dns, IStateStore state, RulesFile rules, IEventSink events)
        {
            if (options.Dnsbl != null && !options.Dnsbl.Enabled) return null;
            var guard = new DnsblGuard(dns, state, options.Dnsbl);
            guard.Changed += (_, r) => events.Write(EventOf(r));
            guard.Error += (_, message) => events.Write(new ProxyEvent("error", null, null, message));
            rules.Reloaded += (_, set) => guard.Track(DnsblZones.Of(set));
            guard.Track(DnsblZones.Of(rules.Current));
            return guard;
        }

        /// <summary>The event <c>dnsbl</c>: a zone's verdict changed.</summary>
        internal static ProxyEvent EventOf(DnsblProbeResult r) =>
            new ProxyEvent("dnsbl", null, null,
                r.Healthy
                    ? "DNSBL zone " + r.Zone + " is healthy: " + r.Detail
                    : "DNSBL zone " + r.Zone + " is unhealthy (" + r.Status + ": " + r.Detail + "): its tokens match nothing until a probe passes",
                new[]
                {
                    new KeyValuePair<string, object>("zone", r.Zone),
                    new KeyValuePair<string, object>("status", r.Status.ToString()),
                    new KeyValuePair<string, object>("healthy", r.Healthy),
                    new KeyValuePair<string, object>("detail", r.Detail),
                });
    }
}
