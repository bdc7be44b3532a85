using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Why the proxy accepted one recipient, kept with the message: the SHA-256 of the rules file the
    /// decision was made under, the deciding line (its number, and its text when short enough), why
    /// the rules decided so when no line did, and what the checks said (SPF, reverse name, DNSBL
    /// score, greylisting, recipient verification). In the envelope it is a few parameters of the
    /// recipient's line: <c>rules-sha256=</c>, <c>rule-line=</c>, <c>rule=</c>, <c>basis=</c> and
    /// one <c>check-&lt;name&gt;=</c> per check (see <see cref="EnvelopeSerializer"/>).
    /// </summary>
    /// <remarks>Evidence, not delivery state: the forwarder never changes it, and a reader that does not
    /// know these parameters keeps them as <see cref="EnvelopeRecipient.ExtraParameters"/>.</remarks>
    public sealed class RecipientProvenance
    {
        /// <summary>A rule's text longer than this is not kept by the proxy: the line number and the file's hash still name it.</summary>
        public const int MaxRuleLength = 512;

        /// <summary>The most characters of one check's value the proxy keeps; a longer one is cut.</summary>
        public const int MaxCheckLength = 512;

        static readonly KeyValuePair<string, string>[] NoChecks = new KeyValuePair<string, string>[0];

        /// <param name="rulesSha256">The rules file's SHA-256, lower-case hex; null when unknown.</param>
        /// <param name="line">The deciding line; null when no line decided (the default action).</param>
        /// <param name="rule">The deciding line's text; null when none.</param>
        /// <param name="basis">Why the rules decided so when it was not a line (<c>DefaultNoMatch</c>); null for a line.</param>
        /// <param name="checks">The checks' results by name (lower-case letters, digits and <c>-</c>), in order.</param>
        /// <exception cref="ArgumentException">A hash that is not 64 lower-case hex digits, a line below 1,
        /// or a check name that is not a parameter name.</exception>
        public RecipientProvenance(string rulesSha256, int? line, string rule, string basis, IReadOnlyList<KeyValuePair<string, string>> checks)
        {
            if (rulesSha256 != null && !IsSha256(rulesSha256)) throw new ArgumentException("Not a lower-case hex SHA-256.", nameof(rulesSha256));
            if (line < 1) throw new ArgumentException("A line number starts at 1.", nameof(line));
            if (basis != null && !IsToken(basis)) throw new ArgumentException("The basis is not a word.", nameof(basis));
            foreach (var c in checks ?? NoChecks)
                if (!IsCheckName(c.Key)) throw new ArgumentException("Bad check name: " + c.Key, nameof(checks));
            RulesSha256 = rulesSha256;
            Line = line;
            Rule = rule;
            Basis = basis;
            Checks = checks ?? NoChecks;
        }

        internal const string CheckPrefix = "check-";

        /// <summary>The SHA-256 of the rules file in force when the recipient was decided (what Get-FileHash shows, lower-case).</summary>
        public string RulesSha256 { get; }
        /// <summary>The rule line that decided; null when none did.</summary>
        public int? Line { get; }
        /// <summary>The deciding line's text as written; null when none decided, or the proxy did not keep it
        /// (longer than <see cref="MaxRuleLength"/>).</summary>
        public string Rule { get; }
        /// <summary>Why the rules decided so, when no line did (<c>DefaultNoMatch</c>); null when a line decided.</summary>
        public string Basis { get; }
        /// <summary>The checks' results by name, in the order written: <c>reverse</c>, <c>spf</c>, <c>score</c>,
        /// <c>dnsbl</c>, <c>grey</c>, <c>verify</c>, and any a later version adds.</summary>
        public IReadOnlyList<KeyValuePair<string, string>> Checks { get; }

        /// <summary>The value of check <paramref name="name"/>; null when it was not made.</summary>
        public string Check(string name)
        {
            foreach (var c in Checks)
                if (string.Equals(c.Key, name, StringComparison.OrdinalIgnoreCase)) return c.Value;
            return null;
        }

        /// <summary>A check's name makes a parameter name after <c>check-</c>: lower-case letters, digits
        /// and <c>-</c>, starting with either. Checked in place: the session's path allocates nothing for it.</summary>
        internal static bool IsCheckName(string name)
        {
            if (string.IsNullOrEmpty(name) || name.Length > 64 - CheckPrefix.Length) return false;
            foreach (var c in name)
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
            return true;
        }

        internal static bool IsSha256(string s)
        {
            if (s == null || s.Length != 64) return false;
            foreach (var c in s)
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
            return true;
        }

        // The names of DecisionBasis: letters only.
        internal static bool IsToken(string s)
        {
            if (string.IsNullOrEmpty(s) || s.Length > 64) return false;
            foreach (var c in s)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return false;
            return true;
        }

        public override string ToString() =>
            (Line != null ? "line " + Line : Basis ?? "(no decision recorded)") + (RulesSha256 != null ? " of " + RulesSha256.Substring(0, 12) : "");
    }
}
