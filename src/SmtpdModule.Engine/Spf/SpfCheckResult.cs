namespace SmtpdModule.Engine.Spf
{
    /// <summary>What one SPF check found: the result, what decided it, and what it cost.</summary>
    public sealed class SpfCheckResult
    {
        internal SpfCheckResult(SpfResult result, SpfIdentity identity, string sender, string domain, string mechanism,
            string explanation, int lookups, int lookupTerms, int voidLookups, string problem)
        {
            Result = result;
            Identity = identity;
            Sender = sender;
            Domain = domain;
            Mechanism = mechanism;
            Explanation = explanation;
            Lookups = lookups;
            LookupTerms = lookupTerms;
            VoidLookups = voidLookups;
            Problem = problem;
        }

        /// <summary>What an <c>SPF=</c> token sees where no check runs (a bare rules evaluation).</summary>
        internal static readonly SpfCheckResult NotChecked =
            new SpfCheckResult(SpfResult.TempError, SpfIdentity.MailFrom, null, null, null, null, 0, 0, 0, "SPF is not checked here");

        /// <summary>A check that ran out of time (RFC 7208 §4.6.4): TempError, never Fail.</summary>
        internal static SpfCheckResult TimedOut(string sender, string domain, System.TimeSpan bound) =>
            new SpfCheckResult(SpfResult.TempError, SpfIdentity.MailFrom, sender, domain, null, null, 0, 0, 0,
                               "no result within " + (int)bound.TotalMilliseconds + " ms");

        /// <summary>A check that broke (a bug or a resolver fault): TempError, never Fail.</summary>
        internal static SpfCheckResult Failed(string sender, string problem) =>
            new SpfCheckResult(SpfResult.TempError, SpfIdentity.MailFrom, sender, null, null, null, 0, 0, 0, problem);

        public SpfResult Result { get; }
        public SpfIdentity Identity { get; }
        /// <summary>The sender as checked: <c>local@domain</c>, <c>postmaster@</c> the domain when there was none.</summary>
        public string Sender { get; }
        /// <summary>The domain whose policy was asked first (the identity's domain).</summary>
        public string Domain { get; }
        /// <summary>The term that decided, as written in the record (<c>-all</c>, <c>include:x.test</c>);
        /// null when no mechanism matched (default Neutral) or the check ended early.</summary>
        public string Mechanism { get; }
        /// <summary>The domain's explanation (its <c>exp=</c> text, macros expanded), only for Fail; null
        /// when the domain gives none or it could not be used (RFC 7208 §6.2).</summary>
        public string Explanation { get; }
        /// <summary>DNS questions asked for this check (the record lookups and <c>exp=</c> included).</summary>
        public int Lookups { get; }
        /// <summary>Terms that counted against the limit of 10 (RFC 7208 §4.6.4).</summary>
        public int LookupTerms { get; }
        /// <summary>Lookups that found no name or no data (limit 2, RFC 7208 §4.6.4).</summary>
        public int VoidLookups { get; }
        /// <summary>Why the result is PermError or TempError; null otherwise.</summary>
        public string Problem { get; }

        public override string ToString() =>
            Result + " (" + Identity + " " + Domain + (Mechanism == null ? "" : ", " + Mechanism) + (Problem == null ? "" : ": " + Problem) + ")";
    }
}
