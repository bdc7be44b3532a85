using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A recipient's <see cref="RecipientProvenance"/> as parameters of its envelope line
    /// (<see cref="EnvelopeSerializer"/>): <c>rules-sha256=</c>, <c>rule-line=</c>, <c>rule=</c>,
    /// <c>basis=</c> and <c>check-&lt;name&gt;=</c>, written after <c>status=</c> and before the
    /// parameters this version does not know, their values escaped as every value is.
    /// </summary>
    internal static class ProvenanceParameters
    {
        const string ParamRulesSha256 = "rules-sha256", ParamRuleLine = "rule-line", ParamRule = "rule", ParamBasis = "basis";

        /// <summary>The parameters provenance owns: as unknown ones they would come back as provenance.</summary>
        public static bool Owns(string name) =>
            name == ParamRulesSha256 || name == ParamRuleLine || name == ParamRule || name == ParamBasis
            || name.StartsWith(RecipientProvenance.CheckPrefix, StringComparison.Ordinal);

        public static void Write(TextWriter writer, RecipientProvenance why)
        {
            if (why.RulesSha256 != null) EnvelopeSerializer.Parameter(writer, ParamRulesSha256, why.RulesSha256);
            if (why.Line != null) EnvelopeSerializer.Parameter(writer, ParamRuleLine, why.Line.Value.ToString(CultureInfo.InvariantCulture));
            if (why.Rule != null) EnvelopeSerializer.Parameter(writer, ParamRule, why.Rule);
            if (why.Basis != null) EnvelopeSerializer.Parameter(writer, ParamBasis, why.Basis);
            foreach (var c in why.Checks)
            {
                writer.Write("; " + RecipientProvenance.CheckPrefix);
                writer.Write(c.Key);
                writer.Write('=');
                writer.Write(EnvelopeSerializer.Escape(c.Value ?? "", inRecipient: true));
            }
        }

        /// <summary>A recipient's provenance parameters as read: each at most once, each well formed.</summary>
        internal sealed class Reader
        {
            string _sha, _rule, _basis;
            int? _line;
            List<KeyValuePair<string, string>> _checks;

            public bool Take(string name, string value)
            {
                switch (name)
                {
                    case ParamRulesSha256:
                        if (_sha != null || !RecipientProvenance.IsSha256(value)) return false;
                        _sha = value;
                        return true;
                    case ParamRuleLine:
                        if (_line != null || value.Length == 0 || value.Length > 9 || value[0] == '0') return false;
                        foreach (var c in value) if (c < '0' || c > '9') return false;
                        _line = int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                        return true;
                    case ParamRule:
                        if (_rule != null) return false;
                        _rule = value;
                        return true;
                    case ParamBasis:
                        if (_basis != null || !RecipientProvenance.IsToken(value)) return false;
                        _basis = value;
                        return true;
                    default:
                        var check = name.Substring(RecipientProvenance.CheckPrefix.Length);
                        if (check.Length == 0) return false;
                        if (_checks == null) _checks = new List<KeyValuePair<string, string>>();
                        foreach (var c in _checks) if (c.Key == check) return false;
                        _checks.Add(new KeyValuePair<string, string>(check, value));
                        return true;
                }
            }

            public RecipientProvenance ToProvenance() => new RecipientProvenance(_sha, _line, _rule, _basis, _checks);
        }
    }
}
