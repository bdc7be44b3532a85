using System.Collections.Generic;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>What one attempt to deliver one message did, recipient by recipient.</summary>
    public sealed class DeliveryResult
    {
        /// <param name="recipients">One result per recipient of the message, in its order.</param>
        /// <param name="remoteMta">The host that answered (for the DSN's <c>Remote-MTA</c>), or
        /// null when there was none (no connection, a local program, a directory).</param>
        public DeliveryResult(IReadOnlyList<RecipientResult> recipients, string remoteMta = null)
        {
            Recipients = recipients;
            RemoteMta = remoteMta;
        }

        public IReadOnlyList<RecipientResult> Recipients { get; }
        public string RemoteMta { get; }
    }
}
