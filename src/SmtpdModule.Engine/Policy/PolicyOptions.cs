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
        /// <summary>Added before every refusal of an address (the proxy's -Tarpit).</summary>
        public TimeSpan Tarpit { get; set; } = TimeSpan.Zero;

        public PolicyOptions Clone() => (PolicyOptions)MemberwiseClone();
    }
}
