using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>How decisions are made beyond the rules themselves.</summary>
    public sealed class RuleEvaluationOptions
    {
        public static readonly RuleEvaluationOptions Default = new RuleEvaluationOptions();

        /// <summary>When no rule matches (and no lookup failed). The original's default is Allow.</summary>
        public DefaultAction DefaultAction { get; set; } = DefaultAction.Allow;
        /// <summary>What a failed lookup does to a decision that it did not make uncertain by itself.</summary>
        public LookupFailurePolicy OnLookupFailure { get; set; } = LookupFailurePolicy.NoMatch;
        /// <summary>Wait before a noto_delay refusal (the OpenBSD build used 50 s).</summary>
        public TimeSpan NotoDelay { get; set; } = TimeSpan.FromSeconds(50);
        /// <summary>Wait before a deny_delay refusal (the OpenBSD build used 50 s).</summary>
        public TimeSpan DenyDelay { get; set; } = TimeSpan.FromSeconds(50);
        /// <summary>How <c>grey</c> lines decide.</summary>
        public GreylistOptions Greylist { get; set; } = new GreylistOptions();
    }
}
