namespace SmtpdModule.Engine.Rules
{
    /// <summary>The three lists of a rule, in the order they are evaluated.</summary>
    public enum RuleListKind
    {
        Source,
        From,
        To,
    }
}
