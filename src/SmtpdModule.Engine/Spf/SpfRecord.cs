using System.Collections.Generic;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>A parsed <c>v=spf1</c> record: its mechanisms in order and the two modifiers that
    /// mean something (unknown modifiers are checked for syntax, then dropped, RFC 7208 §6).</summary>
    sealed class SpfRecord
    {
        public SpfRecord(IReadOnlyList<SpfMechanism> mechanisms, string redirect, string explanation)
        {
            Mechanisms = mechanisms;
            Redirect = redirect;
            Explanation = explanation;
        }

        public IReadOnlyList<SpfMechanism> Mechanisms { get; }
        /// <summary>The <c>redirect=</c> domain-spec, or null.</summary>
        public string Redirect { get; }
        /// <summary>The <c>exp=</c> domain-spec, or null (also when given empty).</summary>
        public string Explanation { get; }
    }
}
