namespace SmtpdModule.Engine.Lookup
{
    /// <summary>The outcome of a reverse lookup: the name the rules see (null = UNKNOWN) and the PTR as found.</summary>
    public sealed class ReverseName
    {
        public ReverseName(string name, string ptr, LookupOutcome outcome, string note)
        {
            Name = name;
            Ptr = ptr;
            Outcome = outcome;
            Note = note;
        }

        /// <summary>The cleaned, confirmed name; null when the peer is UNKNOWN.</summary>
        public string Name { get; }
        /// <summary>The first PTR target as found, confirmed or not.</summary>
        public string Ptr { get; }
        public LookupOutcome Outcome { get; }
        public string Note { get; }
    }
}
