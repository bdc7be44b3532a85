using System.Collections.Generic;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>What one <see cref="MessageAttempt"/> did, for counters and events.</summary>
    internal sealed class AttemptOutcome
    {
        public int Delivered { get; set; }
        public IReadOnlyList<RecipientResult> Deferred { get; set; } = new RecipientResult[0];
        public IReadOnlyList<RecipientResult> Failed { get; set; } = new RecipientResult[0];

        /// <summary>The message's next state; null when it is done and gone.</summary>
        public SpoolState? Next { get; set; }

        public string BounceId { get; set; }
        public string BounceError { get; set; }
        public string RemoteMta { get; set; }
    }
}
