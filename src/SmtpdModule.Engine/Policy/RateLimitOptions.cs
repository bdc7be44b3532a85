using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Per-client-network rate limits, counted in the state store per minute (fixed windows), so
    /// several proxies sharing one store hold them together. The defaults are far above what a
    /// legitimate mail server sends to one domain's MX from one network: they stop floods, not
    /// mailing lists. Postfix's anvil (connection and recipient rates per client) and Haraka's
    /// limit plugin are the anchors; unlike anvil the key is the network, since a bot farm rotates
    /// its addresses within one, and a sender is limited only when SPF proves it, since anyone can
    /// forge a partner's address to use up its limit.
    /// </summary>
    public sealed class RateLimitOptions
    {
        /// <summary>New connections per minute from one client network; more get 421 4.7.0. 0: no limit.</summary>
        public int ConnectionsPerMinute { get; set; } = 3000;
        /// <summary>Sessions open at once from one client network, on this proxy (each proxy counts its own:
        /// a session ends on the proxy it began on); more get 421 4.7.0. 0: no limit.</summary>
        public int ConnectionsAtOnce { get; set; } = 200;
        /// <summary>RCPT commands per minute from one client network; more get 450 4.7.1. 0: no limit.</summary>
        public int RecipientsPerMinute { get; set; } = 30000;
        /// <summary>RCPT commands per minute for one sender whose SPF passes; more get 450 4.7.1. 0: no limit.
        /// Counted only when the proxy checks SPF (a rule tests SPF= or grey, or -SpfCheck Always).</summary>
        public int SenderRecipientsPerMinute { get; set; } = 10000;
        public int IPv4PrefixLength { get; set; } = 24;
        public int IPv6PrefixLength { get; set; } = 64;
        /// <summary>Networks (CIDR) no limit applies to: the own network, partners' relays.</summary>
        public IList<string> Exempt { get; set; } = new List<string>();

        public RateLimitOptions Clone()
        {
            var copy = (RateLimitOptions)MemberwiseClone();
            copy.Exempt = new List<string>(Exempt ?? new string[0]);
            return copy;
        }

        /// <summary>The exempt networks, parsed.</summary>
        /// <exception cref="ArgumentException">One is not a network.</exception>
        public IReadOnlyList<NetworkRange> ParseExempt() => NetworkRange.ParseList(Exempt, nameof(Exempt));

        /// <exception cref="ArgumentException">A value out of range or an exemption that is not a network.</exception>
        public void Validate()
        {
            if (ConnectionsAtOnce < 0) throw new ArgumentOutOfRangeException(nameof(ConnectionsAtOnce), ConnectionsAtOnce, "A limit cannot be negative.");
            if (ConnectionsPerMinute < 0) throw new ArgumentOutOfRangeException(nameof(ConnectionsPerMinute), ConnectionsPerMinute, "A limit cannot be negative.");
            if (RecipientsPerMinute < 0) throw new ArgumentOutOfRangeException(nameof(RecipientsPerMinute), RecipientsPerMinute, "A limit cannot be negative.");
            if (SenderRecipientsPerMinute < 0) throw new ArgumentOutOfRangeException(nameof(SenderRecipientsPerMinute), SenderRecipientsPerMinute, "A limit cannot be negative.");
            if (IPv4PrefixLength < 8 || IPv4PrefixLength > 32) throw new ArgumentOutOfRangeException(nameof(IPv4PrefixLength), IPv4PrefixLength, "An IPv4 prefix length is 8 to 32.");
            if (IPv6PrefixLength < 16 || IPv6PrefixLength > 128) throw new ArgumentOutOfRangeException(nameof(IPv6PrefixLength), IPv6PrefixLength, "An IPv6 prefix length is 16 to 128.");
            ParseExempt();
        }
    }
}
