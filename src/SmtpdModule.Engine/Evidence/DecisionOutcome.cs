using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>What a decision meant for the mail, in the words an administrator asks with.</summary>
    public enum DecisionOutcome
    {
        /// <summary>The command took effect (<see cref="VerdictKind.Continue"/>, or <see cref="VerdictKind.Delay"/> then took effect).</summary>
        Accepted,
        /// <summary>Refused for good: a 5xx reply (<see cref="VerdictKind.Reject"/>, or <see cref="VerdictKind.Close"/> with a 5xx).</summary>
        Refused,
        /// <summary>Refused for now, the client may retry: a 4xx reply (<see cref="VerdictKind.TempFail"/>, or <see cref="VerdictKind.Close"/> with a 4xx).</summary>
        Deferred,
    }

    /// <summary>The outcome of a verdict.</summary>
    public static class DecisionOutcomes
    {
        public static DecisionOutcome Of(VerdictKind kind, string firstReply)
        {
            switch (kind)
            {
                case VerdictKind.Continue:
                case VerdictKind.Delay: return DecisionOutcome.Accepted;
                case VerdictKind.TempFail: return DecisionOutcome.Deferred;
                case VerdictKind.Close: return firstReply != null && firstReply.StartsWith("4", System.StringComparison.Ordinal) ? DecisionOutcome.Deferred : DecisionOutcome.Refused;
                default: return DecisionOutcome.Refused;
            }
        }

        /// <summary>The verdicts that can have <paramref name="outcome"/>.</summary>
        public static VerdictKind[] KindsOf(DecisionOutcome outcome)
        {
            switch (outcome)
            {
                case DecisionOutcome.Accepted: return new[] { VerdictKind.Continue, VerdictKind.Delay };
                case DecisionOutcome.Deferred: return new[] { VerdictKind.TempFail, VerdictKind.Close };
                default: return new[] { VerdictKind.Reject, VerdictKind.Close };
            }
        }
    }
}
