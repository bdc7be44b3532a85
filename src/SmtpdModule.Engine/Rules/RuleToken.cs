namespace SmtpdModule.Engine.Rules
{
    /// <summary>One token of a list, with where it stands in the file.</summary>
    public abstract class RuleToken
    {
        protected RuleToken(string text)
        {
            Text = text;
        }

        public string Text { get; }
        /// <summary>The token can be decided without DNS or ident traffic: skipping it is unobservable.</summary>
        public abstract bool IsPure { get; }
        /// <summary>The token matches every transaction without a lookup.</summary>
        public abstract bool MatchesEverything { get; }

        public override string ToString() => Text;
    }
}
