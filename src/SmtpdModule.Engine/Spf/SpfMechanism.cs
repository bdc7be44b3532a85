using System.Net;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>The eight mechanisms of RFC 7208 §5.</summary>
    enum SpfMechanismKind { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists }

    /// <summary>One parsed mechanism: qualifier, kind, its domain-spec (unexpanded) or network, CIDR lengths.</summary>
    sealed class SpfMechanism
    {
        public SpfMechanism(string text, SpfResult qualifier, SpfMechanismKind kind, string domainSpec, IPAddress network, int cidr4, int cidr6)
        {
            Text = text;
            Qualifier = qualifier;
            Kind = kind;
            DomainSpec = domainSpec;
            Network = network;
            Cidr4 = cidr4;
            Cidr6 = cidr6;
        }

        /// <summary>The term as written.</summary>
        public string Text { get; }
        /// <summary>The result when it matches: Pass, Fail, SoftFail or Neutral.</summary>
        public SpfResult Qualifier { get; }
        public SpfMechanismKind Kind { get; }
        /// <summary>The target domain-spec; null means the current domain (a, mx, ptr).</summary>
        public string DomainSpec { get; }
        /// <summary>The network of ip4/ip6.</summary>
        public IPAddress Network { get; }
        public int Cidr4 { get; }
        public int Cidr6 { get; }

        /// <summary>Whether evaluating it asks DNS (counts against the limit of 10, RFC 7208 §4.6.4).</summary>
        public bool QueriesDns => Kind == SpfMechanismKind.Include || Kind == SpfMechanismKind.A || Kind == SpfMechanismKind.Mx
            || Kind == SpfMechanismKind.Ptr || Kind == SpfMechanismKind.Exists;
    }
}
