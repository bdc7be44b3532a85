using System;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>What the policy needs besides the rules: the proxy's settings that change a verdict.</summary>
    public sealed class PolicyOptions
    {
        /// <summary>The name in the greeting and the HELO reply.</summary>
        public string HostName { get; set; } = Environment.MachineName;
        /// <summary>Look up the client's reverse name at connect (reference §4.1).</summary>
        public bool ReverseLookup { get; set; } = true;
        /// <summary>Honour a PTR name only when it resolves back to the client (reference §9).</summary>
        public bool ConfirmReverseName { get; set; } = true;
        /// <summary>Refuse source routes, %-hacks, bang paths and quoted '@' with 553 before the rules (reference §7).</summary>
        public bool StrictAddresses { get; set; } = true;
        /// <summary>Recipients one transaction may have; more get 452 4.5.3.</summary>
        public int MaxRecipients { get; set; } = 100;
        /// <summary>25 MiB: the proxy's default message size limit.</summary>
        public const long DefaultMaxMessageSize = 25L * 1024 * 1024;
        /// <summary>The SIZE the EHLO reply announces (RFC 1870).</summary>
        public long MaxMessageSize { get; set; } = DefaultMaxMessageSize;
        /// <summary>EHLO offers STARTTLS (the proxy has a certificate) until the session is secured.</summary>
        public bool OfferStartTls { get; set; }
        /// <summary>Added before every refusal of an address (the proxy's -Tarpit).</summary>
        public TimeSpan Tarpit { get; set; } = TimeSpan.Zero;

        /// <summary>The protocol tests whose failure refuses RCPT with 521 5.5.1 and closes the session
        /// (action Enforce), unless the deciding rule line named that test with <c>FAILED=</c>.</summary>
        public Rules.ProtocolTests EnforcedTests { get; set; }

        /// <summary>Connections and recipients per minute per client network and per proven sender.</summary>
        public RateLimitOptions RateLimits { get; set; } = new RateLimitOptions();

        /// <summary>When SPF is checked and how long a check may take.</summary>
        public Spf.SpfOptions Spf { get; set; } = new Spf.SpfOptions();

        public PolicyOptions Clone()
        {
            var copy = (PolicyOptions)MemberwiseClone();
            copy.Spf = (Spf ?? new Spf.SpfOptions()).Clone();
            copy.RateLimits = (RateLimits ?? new RateLimitOptions()).Clone();
            return copy;
        }
    }
}
