using System;
using System.Collections.Generic;
using System.Linq;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>Which sources say whether a mailbox exists downstream, and what happens when none can.</summary>
    public sealed class RecipientVerificationOptions
    {
        /// <summary>Asked in order; the first that knows decides. Empty: no verification. A proxy or
        /// tester made with these options disposes the sources that are <see cref="IDisposable"/>
        /// (an LDAP source's connections) when it stops.</summary>
        public IList<VerificationSource> Sources { get; set; } = new List<VerificationSource>();
        public VerificationFailMode FailMode { get; set; } = VerificationFailMode.TempFail;

        /// <summary>The verifier over <paramref name="store"/>; null when no source is configured.</summary>
        public RecipientVerifier CreateVerifier(IStateStore store) =>
            Sources == null || Sources.Count == 0 ? null : new RecipientVerifier(Sources.ToList(), store, FailMode);

        /// <summary>Disposes the sources that hold resources; called once by their proxy or tester.</summary>
        internal void DisposeSources()
        {
            foreach (var s in Sources ?? Enumerable.Empty<VerificationSource>())
                (s?.Source as IDisposable)?.Dispose();
        }
    }
}
