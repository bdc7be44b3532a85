using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The connect verdict's reason: how the client's name was found, or why it has none. Written
    /// when read (the session log, Test-SmtpdRule); a replay rebuilds thousands of sessions a second
    /// and never reads it.
    /// </summary>
    internal sealed class ReverseReason : Verdict.LazyReason
    {
        readonly string _peer;
        readonly bool _confirm;
        readonly ReverseName _reverse;

        public ReverseReason(string peer, bool confirm, ReverseName reverse)
        {
            _peer = peer;
            _confirm = confirm;
            _reverse = reverse;
        }

        public override string Make() => Describe(_peer, _confirm, _reverse);

        /// <summary>The outcome's name, as the session's results keep it (no boxing, no formatting).</summary>
        public static string OutcomeName(LookupOutcome outcome)
        {
            switch (outcome)
            {
                case LookupOutcome.Found: return nameof(LookupOutcome.Found);
                case LookupOutcome.NotFound: return nameof(LookupOutcome.NotFound);
                case LookupOutcome.Failed: return nameof(LookupOutcome.Failed);
                default: return outcome.ToString();
            }
        }

        static string Describe(string peer, bool confirm, ReverseName r)
        {
            switch (r.Outcome)
            {
                case LookupOutcome.Found:
                    return "reverse name of " + peer + ": " + r.Name + (confirm ? " (forward-confirmed)" : " (PTR trusted without forward confirmation)");
                case LookupOutcome.Failed:
                    return "reverse lookup of " + peer + " failed, whether the client has a name is unknown: " + r.Note;
                default:
                    return r.Ptr == null
                        ? "reverse name of " + peer + ": none (no PTR record), the client is UNKNOWN"
                        : "reverse name of " + peer + ": UNKNOWN, " + r.Note;
            }
        }
    }
}
