using System;
using System.Collections.Generic;
using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// A spooled message as a transport sees it: the envelope, the recipients still to deliver,
    /// and a way to read the bytes (our <c>Received:</c> header first, CRLF line ends, exactly as
    /// spooled; not dot-stuffed).
    /// </summary>
    public sealed class OutgoingMessage
    {
        readonly Func<Stream> _openBody;

        /// <param name="envelope">The message's envelope, read from the spool.</param>
        /// <param name="recipients">The recipients to deliver to in this attempt, a subset of the
        /// envelope's (those not yet delivered or failed).</param>
        /// <param name="openBody">Opens a new stream over the message bytes, positioned at their
        /// first byte; the caller disposes it. May be called more than once (a retry on another
        /// connection, one call per sendmail batch).</param>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public OutgoingMessage(Envelope envelope, IReadOnlyList<OutgoingRecipient> recipients, Func<Stream> openBody)
        {
            Envelope = envelope ?? throw new ArgumentNullException(nameof(envelope));
            Recipients = recipients ?? throw new ArgumentNullException(nameof(recipients));
            _openBody = openBody ?? throw new ArgumentNullException(nameof(openBody));
            Sender = EnvelopeAddress.Bare(envelope.From);
        }

        public Envelope Envelope { get; }

        /// <summary>The spool id, for logs, Received ids and pickup file names.</summary>
        public string Id => Envelope.Id;

        /// <summary>The reverse path without angle brackets; empty for the null sender.</summary>
        public string Sender { get; }

        public IReadOnlyList<OutgoingRecipient> Recipients { get; }

        /// <summary>Length of the message bytes.</summary>
        public long Size => Envelope.Size;

        /// <summary>The client declared 8BITMIME.</summary>
        public bool EightBit => Envelope.Body == EnvelopeBodyType.EightBitMime;

        /// <summary>The client asked for SMTPUTF8.</summary>
        public bool SmtpUtf8 => Envelope.SmtpUtf8;

        /// <summary>Opens the message bytes from their first byte.</summary>
        /// <exception cref="SpoolException">The file cannot be read.</exception>
        public Stream OpenBody() => _openBody();
    }
}
