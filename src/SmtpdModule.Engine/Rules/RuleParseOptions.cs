using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>How rules are compiled.</summary>
    public sealed class RuleParseOptions
    {
        public static readonly RuleParseOptions Default = new RuleParseOptions();

        /// <summary>Each regex match is abandoned after this long, so no pattern can stall a session.
        /// An abandoned match makes the check fail (the default action).</summary>
        public TimeSpan RegexTimeout { get; set; } = TimeSpan.FromMilliseconds(200);
    }
}
