namespace SmtpdModule.Engine.Policy
{
    /// <summary>What decided a counted RCPT (see <see cref="RuleHitCounter"/>): a rule line, or one of the
    /// ways a recipient is decided without one.</summary>
    public enum RuleHitBasis
    {
        /// <summary>A rule line matched and its action stood.</summary>
        Rule,
        /// <summary>No line matched and no lookup failed: the default action.</summary>
        DefaultNoMatch,
        /// <summary>A lookup failed and the rules could not decide for certain: deferred.</summary>
        LookupFailure,
        /// <summary>The address check refused the recipient (syntax, a source route, a null recipient) before the rules.</summary>
        AddressCheck,
        /// <summary>A line allowed the recipient and recipient verification refused or deferred it.</summary>
        RecipientVerification,
        /// <summary>The client had failed a protocol test whose action is Enforce: the session was closed.</summary>
        ProtocolTest,
        /// <summary>A limit refused the recipient before the rules: too many recipients, a rate limit.</summary>
        Limit,
        /// <summary>The check could not run (an internal fault): deferred.</summary>
        Fault,
    }
}
