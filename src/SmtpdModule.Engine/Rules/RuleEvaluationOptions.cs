using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>How decisions are made beyond the rules themselves.</summary>
    public sealed class RuleEvaluationOptions
    {
        public static readonly RuleEvaluationOptions Default = new RuleEvaluationOptions();

        /// <summary>When no rule matches or a check fails. The original's default is Allow.</summary>
        public DefaultAction DefaultAction { get; set; } = DefaultAction.Allow;
        /// <summary>Wait before a noto_delay refusal (the OpenBSD build used 50 s).</summary>
        public TimeSpan NotoDelay { get; set; } = TimeSpan.FromSeconds(50);
        /// <summary>Wait before a deny_delay refusal (the OpenBSD build used 50 s).</summary>
        public TimeSpan DenyDelay { get; set; } = TimeSpan.FromSeconds(50);
    }
}
