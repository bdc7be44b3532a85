namespace SmtpdModule.Engine.Rules
{
    /// <summary>What a lookup that fails (timeout, SERVFAIL, REFUSED) means for a rule check.</summary>
    public enum LookupFailurePolicy
    {
        /// <summary>
        /// The failed token does not match, as in the original, and evaluation goes on; the recipient
        /// is deferred only where the failure could have changed the outcome of a refusal, or where
        /// no line matched.
        /// </summary>
        NoMatch,
        /// <summary>Any failure met on the way to a decision defers the recipient (451 4.4.3).</summary>
        Defer,
    }
}
