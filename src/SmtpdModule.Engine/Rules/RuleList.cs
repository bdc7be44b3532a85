using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// One list field: <c>P1 … Pn [EXCEPT rest]</c> (reference §2.1). It matches when some Pi
    /// matches and <c>rest</c>, itself a list, does not. A list that starts with EXCEPT never matches.
    /// Immutable and shared by every line that has the same field text.
    /// </summary>
    public sealed class RuleList
    {
        public RuleList(RuleListKind kind, string text, IReadOnlyList<RuleToken> tokens, RuleToken[] positive, RuleList except)
        {
            Kind = kind;
            Text = text;
            Tokens = tokens;
            Positive = positive;
            Except = except;
        }

        public RuleListKind Kind { get; }
        /// <summary>The field as written.</summary>
        public string Text { get; }
        /// <summary>Every token as written, EXCEPT keywords excluded.</summary>
        public IReadOnlyList<RuleToken> Tokens { get; }
        /// <summary>The tokens before the first EXCEPT.</summary>
        public RuleToken[] Positive { get; }
        /// <summary>The list after the first EXCEPT; null when there is none.</summary>
        public RuleList Except { get; }

        /// <summary>Matches every transaction without a lookup: a plain ALL (or '*') and no EXCEPT.</summary>
        public bool MatchesEverything
        {
            get
            {
                if (Except != null) return false;
                foreach (var t in Positive) if (t.MatchesEverything) return true;
                return false;
            }
        }

        /// <summary>No token (here or after EXCEPT) can cause DNS or ident traffic.</summary>
        public bool IsPure
        {
            get
            {
                foreach (var t in Positive) if (!t.IsPure) return false;
                return Except == null || Except.IsPure;
            }
        }

        public override string ToString() => Text;
    }
}
