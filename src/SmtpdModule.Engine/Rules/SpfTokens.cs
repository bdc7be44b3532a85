namespace SmtpdModule.Engine.Rules
{
    /// <summary>Where rules test the SPF result: a proxy whose rules never do need not check it.</summary>
    public static class SpfTokens
    {
        /// <summary>Whether a line of <paramref name="rules"/> tests <c>SPF=</c>.</summary>
        public static bool NamedBy(RuleSet rules)
        {
            foreach (var rule in rules.Rules)
                if (NamedBy(rule.From)) return true;
            return false;
        }

        /// <summary>Whether <paramref name="list"/> (a from list, EXCEPT part included) has an <c>SPF=</c> token.</summary>
        public static bool NamedBy(RuleList list)
        {
            foreach (var t in list.Tokens)
                if (t is AddressToken a && a.Kind == AddressToken.TokenKind.Spf) return true;
            return false;
        }
    }
}
