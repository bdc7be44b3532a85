namespace SmtpdModule.Engine.Rules
{
    /// <summary>The action taken when no rule matches or a check cannot be completed (reference §1.6).</summary>
    public enum DefaultAction
    {
        /// <summary>Fail open, as the original did: the rules are a nuisance filter.</summary>
        Allow,
        /// <summary>Fail closed: refuse and close the session, with the default reply template.</summary>
        Deny,
    }
}
