using System;
using System.Collections.Generic;
using System.Globalization;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// What the envelope keeps of why a recipient was accepted (<see cref="RecipientProvenance"/>):
    /// the rules' hash and deciding line from the recipient's own decision, the session's check
    /// results as they stand at DATA (reverse name, SPF, ...), and the checks that belong to that
    /// recipient alone (DNSBL score, greylisting, verification) from its decision, since the
    /// session's results hold only the last recipient's.
    /// </summary>
    internal static class ProvenanceOf
    {
        // Session results that are per recipient, and so taken from the decision instead.
        const string Grey = "grey", Verify = "verify", Score = "score", Dnsbl = "dnsbl";

        /// <summary>The provenance of one accepted recipient; null when nothing is known of its decision.</summary>
        public static RecipientProvenance Recipient(RuleDecision decision, string rulesSha256, IDictionary<string, string> results)
        {
            if (decision == null && rulesSha256 == null) return null;
            var checks = new List<KeyValuePair<string, string>>(results.Count + 4);
            foreach (var r in results)
            {
                if (IsPerRecipient(r.Key)) continue;
                var name = r.Key.ToLowerInvariant();
                if (RecipientProvenance.IsCheckName(name)) Add(checks, name, r.Value);
            }
            if (decision?.Score != null) Add(checks, Score, decision.Score.Value.ToString(CultureInfo.InvariantCulture));
            if (decision?.ScoreDetail != null) Add(checks, Dnsbl, decision.ScoreDetail);
            var grey = decision?.Greylist;
            if (grey != null) Add(checks, Grey, grey.State + " " + grey.Identity);
            if (decision?.Verification != null) Add(checks, Verify, decision.Verification);
            var line = decision?.LineNumber;
            var rule = decision?.Rule;
            if (rule != null && rule.Length > RecipientProvenance.MaxRuleLength) rule = null;
            var basis = decision == null || line != null ? null : decision.Basis.ToString();
            return new RecipientProvenance(RecipientProvenance.IsSha256(rulesSha256) ? rulesSha256 : null, line, rule, basis, checks);
        }

        static bool IsPerRecipient(string key) =>
            string.Equals(key, Grey, StringComparison.OrdinalIgnoreCase) || string.Equals(key, Verify, StringComparison.OrdinalIgnoreCase)
            || string.Equals(key, Score, StringComparison.OrdinalIgnoreCase) || string.Equals(key, Dnsbl, StringComparison.OrdinalIgnoreCase);

        static void Add(List<KeyValuePair<string, string>> checks, string name, string value)
        {
            value = value ?? "";
            if (value.Length > RecipientProvenance.MaxCheckLength) value = value.Substring(0, RecipientProvenance.MaxCheckLength);
            // A lone surrogate at the cut would not survive UTF-8.
            if (value.Length > 0 && char.IsHighSurrogate(value[value.Length - 1])) value = value.Substring(0, value.Length - 1);
            checks.Add(new KeyValuePair<string, string>(name, value));
        }
    }
}
