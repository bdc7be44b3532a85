namespace SmtpdModule.Engine.Rules
{
    /// <summary>What happens to one recipient.</summary>
    public enum RuleAction
    {
        /// <summary>The recipient is accepted.</summary>
        Allow,
        /// <summary>This recipient is refused with the rendered reply; the session goes on.</summary>
        Noto,
        /// <summary>The rendered reply is sent, then 421, and the session is closed.</summary>
        Deny,
        /// <summary>
        /// This recipient gets a temporary refusal (451 4.4.3) and the session goes on: a lookup failed
        /// and the rules could not decide for certain. Never written in a rules file.
        /// </summary>
        Defer,
        /// <summary>
        /// A <c>grey</c> line refused this recipient for now (450 4.7.1): a first try, a retry before
        /// the delay ended, or a trapped client. The session goes on.
        /// </summary>
        Grey,
    }
}
