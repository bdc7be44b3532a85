namespace SmtpdModule.Engine.Rules
{
    /// <summary>Why a decision came out the way it did.</summary>
    public enum DecisionBasis
    {
        /// <summary>A rule line matched.</summary>
        Rule,
        /// <summary>No rule matched: the default action.</summary>
        DefaultNoMatch,
        /// <summary>A check could not be completed (a DNS failure, a regex timeout): the default action.</summary>
        DefaultOnFailure,
    }
}
