using System;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>A recipient source as the verifier asks it: how long its answers are kept in the state store.</summary>
    public sealed class VerificationSource
    {
        /// <param name="source">The source.</param>
        /// <param name="knownTtl">How long "known" is kept; null: not cached (a list in memory needs no cache).</param>
        /// <param name="unknownTtl">How long "unknown" is kept; null: not cached.</param>
        public VerificationSource(IRecipientSource source, TimeSpan? knownTtl = null, TimeSpan? unknownTtl = null)
        {
            Source = source ?? throw new ArgumentNullException(nameof(source));
            if (knownTtl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(knownTtl), "must be positive");
            if (unknownTtl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(unknownTtl), "must be positive");
            KnownTtl = knownTtl;
            UnknownTtl = unknownTtl;
        }

        public IRecipientSource Source { get; }
        public TimeSpan? KnownTtl { get; }
        public TimeSpan? UnknownTtl { get; }
    }
}
