using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// One spooled message as an administrator sees it: its envelope, its state and its delivery
    /// record, without its bytes. What <c>Get-SmtpdSpool</c> writes; <see cref="Id"/> and
    /// <see cref="SpoolPath"/> bind to the spool item cmdlets by property name.
    /// </summary>
    public sealed class SpoolItem
    {
        internal SpoolItem(string spoolPath, SpoolLocation location, Envelope envelope, DeliveryStatus status)
        {
            SpoolPath = spoolPath;
            Id = envelope.Id;
            State = SpoolLayout.StateOf(location.State);
            Owner = location.Owner;
            Envelope = envelope;
            Received = envelope.Received;
            Sender = EnvelopeAddress.Bare(envelope.From);
            ClientAddress = envelope.ClientAddress;
            ClientName = envelope.ClientName;
            Helo = envelope.Helo;
            Size = envelope.Size;
            Attempts = status?.Attempts ?? 0;
            LastAttempt = status?.LastAttempt;
            NextAttempt = status?.NextAttempt;
            LastError = status?.LastError;
            var recipients = new List<SpoolRecipient>(envelope.Recipients.Count);
            for (var i = 0; i < envelope.Recipients.Count; i++)
            {
                RecipientProgress progress = null;
                status?.Recipients.TryGetValue(i, out progress);
                recipients.Add(new SpoolRecipient(i, EnvelopeAddress.Bare(envelope.Recipients[i].Address), progress, envelope.Recipients[i].Provenance));
            }
            Recipients = recipients;
        }

        /// <summary>The spool id.</summary>
        public string Id { get; }

        public SpoolState State { get; }

        /// <summary>When the proxy accepted the message.</summary>
        public DateTimeOffset Received { get; }

        /// <summary>The envelope sender without angle brackets; empty for the null sender (bounces).</summary>
        public string Sender { get; }

        public IReadOnlyList<SpoolRecipient> Recipients { get; }

        /// <summary>The message's length in bytes, our Received: header included.</summary>
        public long Size { get; }

        public string ClientAddress { get; }
        public string ClientName { get; }
        public string Helo { get; }

        public int Attempts { get; }
        public DateTimeOffset? LastAttempt { get; }

        /// <summary>When a deferred message is due again.</summary>
        public DateTimeOffset? NextAttempt { get; }

        public string LastError { get; }

        /// <summary>The forwarder holding an active message.</summary>
        public string Owner { get; }

        /// <summary>The spool root the item is in.</summary>
        public string SpoolPath { get; }

        /// <summary>The whole envelope as stored.</summary>
        public Envelope Envelope { get; }

        public override string ToString() => Id;
    }
}
