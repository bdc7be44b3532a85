namespace SmtpdModule.Engine.Rules
{
    /// <summary>One token of a list, with where it stands in the file.</summary>
    public abstract class RuleToken
    {
        protected RuleToken(string text, int column)
        {
            Text = text;
            Column = column;
        }

        public string Text { get; }
        /// <summary>1-based column of the token's first character.</summary>
        public int Column { get; }
        /// <summary>The token can be decided without DNS or ident traffic: skipping it is unobservable.</summary>
        public abstract bool IsPure { get; }
        /// <summary>The token matches every transaction without a lookup.</summary>
        public abstract bool MatchesEverything { get; }

        public override string ToString() => Text;
    }
}
