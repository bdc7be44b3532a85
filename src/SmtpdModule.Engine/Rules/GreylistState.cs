namespace SmtpdModule.Engine.Rules
{
    /// <summary>What a matching <c>grey</c> line found for the recipient's triplet.</summary>
    public enum GreylistState
    {
        /// <summary>The first try (or the first after the retry window): refused, and remembered.</summary>
        FirstSeen,
        /// <summary>A retry before the delay ended: refused.</summary>
        TooEarly,
        /// <summary>The first retry after the delay: the sender proved it retries; evaluation goes on.</summary>
        Passed,
        /// <summary>The triplet passed before: evaluation goes on.</summary>
        Proven,
        /// <summary>The client (its network or SPF domain) proved itself often enough: evaluation goes on.</summary>
        AutoAllowed,
        /// <summary>The client's address wrote to a greytrap: refused until the trap expires.</summary>
        Trapped,
        /// <summary>The state store could not be read: evaluation goes on (the mail is let through).</summary>
        Unavailable,
    }
}
