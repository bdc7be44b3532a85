using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// One accepted recipient: the forward path as the client sent it, its delivery status, why it was
    /// accepted, and any further per-recipient parameters. In the envelope header it is one line,
    /// <c>rcpt: &lt;forward-path&gt;[; status=delivered][; rules-sha256=…; rule-line=…][; name=value]…</c>; parameters this
    /// version does not know (a later forwarder's attempts, next-attempt, last-error) are kept in
    /// <see cref="ExtraParameters"/> so reading and writing again loses nothing.
    /// </summary>
    public sealed class EnvelopeRecipient
    {
        /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
        public EnvelopeRecipient(string address, RecipientStatus status = RecipientStatus.Pending)
        {
            Address = address ?? throw new ArgumentNullException(nameof(address));
            Status = status;
        }

        /// <summary>The forward path as received, e.g. <c>&lt;b@example.com&gt;</c>.</summary>
        public string Address { get; }

        public RecipientStatus Status { get; set; }

        /// <summary>Why the proxy accepted the recipient; null when the envelope does not say (written
        /// before this was kept, or not by the proxy: a bounce).</summary>
        public RecipientProvenance Provenance { get; set; }

        /// <summary>Parameters other than <c>status</c> and those of <see cref="Provenance"/>, in file order. Names are lower-case
        /// letters, digits and <c>-</c>, starting with a letter.</summary>
        public IList<KeyValuePair<string, string>> ExtraParameters { get; } = new List<KeyValuePair<string, string>>();

        public override string ToString() => Address;
    }
}
