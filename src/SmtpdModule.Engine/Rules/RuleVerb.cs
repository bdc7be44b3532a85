namespace SmtpdModule.Engine.Rules
{
    /// <summary>The action word of a rule line (reference §1.3). Case-sensitive in the file.</summary>
    public enum RuleVerb
    {
        Allow,
        Noto,
        Deny,
        NotoDelay,
        DenyDelay,
        /// <summary>Logs that the line matched and goes on with the next line.</summary>
        Debug,
        /// <summary>Greylisting (an extension): a temporary refusal until the sender proves it retries; then the next line decides.</summary>
        Grey,
    }
}
