namespace SmtpdModule.Engine.Rules
{
    /// <summary>Why a decision came out the way it did.</summary>
    public enum DecisionBasis
    {
        /// <summary>A rule line matched (lookups that failed on the way, if any, are in <see cref="RuleDecision.FailureReason"/>).</summary>
        Rule,
        /// <summary>No rule matched and no lookup failed: the default action.</summary>
        DefaultNoMatch,
        /// <summary>
        /// A lookup failed and the rules could not decide for certain: the recipient is deferred
        /// (451 4.4.3), never accepted and never refused for good.
        /// </summary>
        LookupFailure,
        /// <summary>The proxy's address check refused the sender or recipient before the rules were asked.</summary>
        AddressCheck,
        /// <summary>A line allowed the recipient, and recipient verification then refused or deferred it
        /// (no such user downstream, or no source could answer).</summary>
        RecipientVerification,
    }
}
