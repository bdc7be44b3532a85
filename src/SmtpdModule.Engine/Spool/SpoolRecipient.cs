using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>One recipient of a spooled message, why the proxy accepted it, and how far its delivery has come.</summary>
    public sealed class SpoolRecipient
    {
        static readonly IReadOnlyDictionary<string, string> NoChecks = new Dictionary<string, string>();

        internal SpoolRecipient(int index, string address, RecipientProgress progress, RecipientProvenance provenance = null)
        {
            RulesSha256 = provenance?.RulesSha256;
            Line = provenance?.Line;
            Rule = provenance?.Rule;
            Basis = provenance?.Basis;
            if (provenance == null || provenance.Checks.Count == 0) Checks = NoChecks;
            else
            {
                // In the order written (a Dictionary enumerates in insertion order while nothing is removed).
                var checks = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var c in provenance.Checks) checks[c.Key] = c.Value;
                Checks = checks;
            }
            Index = index;
            Address = address;
            Status = progress?.Status ?? RecipientStatus.Pending;
            StatusCode = progress?.StatusCode;
            Diagnostic = progress?.Diagnostic;
            Time = progress?.Time;
        }

        /// <summary>The recipient's position in the envelope.</summary>
        public int Index { get; }

        /// <summary>The address without angle brackets.</summary>
        public string Address { get; }

        public RecipientStatus Status { get; }

        /// <summary>The RFC 3463 code of the last answer for this recipient, if any.</summary>
        public string StatusCode { get; }

        /// <summary>The last answer for this recipient, if any.</summary>
        public string Diagnostic { get; }

        public DateTimeOffset? Time { get; }

        /// <summary>The SHA-256 of the rules file the proxy decided this recipient under (compare with
        /// <c>Get-FileHash</c>); null for a message that does not record it.</summary>
        public string RulesSha256 { get; }

        /// <summary>The rule line that accepted the recipient; null when the default action did, or unrecorded.</summary>
        public int? Line { get; }

        /// <summary>The text of that line; null when no line decided or it was too long to keep.</summary>
        public string Rule { get; }

        /// <summary>Why the rules accepted the recipient when no line did (<c>DefaultNoMatch</c>); null otherwise.</summary>
        public string Basis { get; }

        /// <summary>What the checks said when the recipient was accepted, by name: <c>reverse</c>, <c>spf</c>,
        /// <c>score</c>, <c>dnsbl</c>, <c>grey</c>, <c>verify</c> (those made); empty when unrecorded.</summary>
        public IReadOnlyDictionary<string, string> Checks { get; }

        public override string ToString() => Address;
    }
}
