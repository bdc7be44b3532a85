using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// What a verdict means for the mail, the terms a comparison of two policies counts in: a held
    /// command that then takes effect is accepted, and a reply's wording does not matter.
    /// </summary>
    public enum TransactionOutcome
    {
        /// <summary>The command took effect (<see cref="VerdictKind.Continue"/> or <see cref="VerdictKind.Delay"/>).</summary>
        Accepted,
        /// <summary>Refused for now: the client tries again (<see cref="VerdictKind.TempFail"/>).</summary>
        Deferred,
        /// <summary>Refused for good (<see cref="VerdictKind.Reject"/>).</summary>
        Refused,
        /// <summary>The session was closed (<see cref="VerdictKind.Close"/>).</summary>
        Closed,
    }

    /// <summary>Maps a verdict to its <see cref="TransactionOutcome"/>.</summary>
    public static class TransactionOutcomes
    {
        public static TransactionOutcome Of(VerdictKind kind)
        {
            switch (kind)
            {
                case VerdictKind.Reject: return TransactionOutcome.Refused;
                case VerdictKind.TempFail: return TransactionOutcome.Deferred;
                case VerdictKind.Close: return TransactionOutcome.Closed;
                default: return TransactionOutcome.Accepted;
            }
        }
    }
}
