using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// What the forwarder has learnt about one message: attempts, when to try next, the last error,
    /// and how far each recipient has come. Stored in <c>status/&lt;id&gt;.status</c>
    /// (<see cref="DeliveryStatusFile"/>); a message without that file has never been tried.
    /// </summary>
    public sealed class DeliveryStatus
    {
        /// <summary>Delivery attempts made so far.</summary>
        public int Attempts { get; set; }

        public DateTimeOffset? FirstAttempt { get; set; }

        public DateTimeOffset? LastAttempt { get; set; }

        /// <summary>When the message is due again; null means now.</summary>
        public DateTimeOffset? NextAttempt { get; set; }

        /// <summary>The last temporary or permanent error, one line, for the administrator.</summary>
        public string LastError { get; set; }

        /// <summary>When an administrator last released the message (Resume-SmtpdSpoolItem). The
        /// queue lifetime counts from here when it is later than the arrival, so a released
        /// message gets a full lifetime again.</summary>
        public DateTimeOffset? Released { get; set; }

        /// <summary>Recipients the forwarder has an entry for, by their index in the envelope.
        /// A recipient without an entry is pending and has no history.</summary>
        public IDictionary<int, RecipientProgress> Recipients { get; } = new SortedDictionary<int, RecipientProgress>();

        /// <summary>The status of recipient <paramref name="index"/>: <see cref="RecipientStatus.Pending"/>
        /// when there is no entry.</summary>
        public RecipientStatus StatusOf(int index) =>
            Recipients.TryGetValue(index, out var p) ? p.Status : RecipientStatus.Pending;

        /// <summary>The entry of recipient <paramref name="index"/>, created pending if missing.</summary>
        public RecipientProgress For(int index)
        {
            if (!Recipients.TryGetValue(index, out var p))
                Recipients[index] = p = new RecipientProgress(RecipientStatus.Pending);
            return p;
        }
    }
}
