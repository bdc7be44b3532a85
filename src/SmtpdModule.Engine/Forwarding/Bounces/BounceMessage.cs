using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding.Bounces
{
    /// <summary>
    /// A delivery status notification ready to spool as a new message: its bytes and the envelope
    /// it must travel with. The reverse path is always the null path, so that a bounce of this
    /// bounce is never sent (RFC 5321 §6.1, <see cref="BouncePolicy"/>).
    /// </summary>
    public sealed class BounceMessage
    {
        readonly byte[] _content;

        internal BounceMessage(byte[] content, string recipient, string messageId, bool smtpUtf8)
        {
            _content = content;
            Recipient = recipient;
            MessageId = messageId;
            SmtpUtf8 = smtpUtf8;
        }

        /// <summary>The reverse path for the envelope: <c>&lt;&gt;</c>.</summary>
        public string From => "<>";

        /// <summary>The forward path for the envelope, the original sender, in angle brackets as
        /// the spool stores paths: <c>&lt;a@example.org&gt;</c>.</summary>
        public string Recipient { get; }

        /// <summary>The <c>Message-Id</c> of the bounce, without angle brackets, for logs.</summary>
        public string MessageId { get; }

        /// <summary>The bounce holds UTF-8 in its header or its report (RFC 6531–6533) and must be
        /// sent with SMTPUTF8; the original was, so the return path can take it.</summary>
        public bool SmtpUtf8 { get; }

        /// <summary>The <c>BODY=</c> to send with: <c>8BITMIME</c> exactly when
        /// <see cref="SmtpUtf8"/>, since only then is any part 8-bit.</summary>
        public EnvelopeBodyType Body => SmtpUtf8 ? EnvelopeBodyType.EightBitMime : EnvelopeBodyType.SevenBit;

        /// <summary>Length of the message in octets.</summary>
        public int Length => _content.Length;

        /// <summary>The message, CRLF line ends, no line over 998 octets, not dot-stuffed.</summary>
        /// <returns>A copy, so the caller may change it.</returns>
        public byte[] ToArray() => (byte[])_content.Clone();

        /// <summary>A read-only stream over the message, for spooling without a copy.</summary>
        public Stream OpenRead() => new MemoryStream(_content, writable: false);

        public override string ToString() => "bounce to " + Recipient + " (" + MessageId + ")";
    }
}
