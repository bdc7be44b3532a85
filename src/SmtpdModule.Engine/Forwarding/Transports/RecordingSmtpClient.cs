using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// MailKit's client with the hooks a relay needs: a refused RCPT is written down in the
    /// current <see cref="SmtpAttempt"/> instead of ending the transaction (the other recipients
    /// still get the DATA), and the message is sent as the spooled bytes, never prepared or
    /// re-encoded (<see cref="RawSpoolMessage"/>).
    /// </summary>
    internal sealed class RecordingSmtpClient : SmtpClient
    {
        /// <param name="guard">Bounds the server's replies (<see cref="ReplyGuard"/>).</param>
        public RecordingSmtpClient(IProtocolLogger guard) : base(guard)
        {
        }

        /// <summary>The transaction in progress; set before each send.</summary>
        public SmtpAttempt Attempt { get; set; }

        /// <summary>When the last transaction or check ended, from <see cref="System.Diagnostics.Stopwatch"/>.</summary>
        public long IdleSince { get; set; }

        /// <summary>The byte count announced with SIZE (RFC 1870).</summary>
        public long MessageSize { get; set; } = -1;

        protected override void OnSenderAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
            Attempt?.Replied((int)response.StatusCode);

        protected override void OnSenderNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
        {
            // Recorded here because with PIPELINING the RCPT replies are parsed after this one;
            // the base throws, which ends the transaction.
            Attempt?.AllReplied((int)response.StatusCode, response.Response);
            base.OnSenderNotAccepted(message, mailbox, response);
        }

        protected override void OnRecipientAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
            Attempt?.RecipientReplied(mailbox, (int)response.StatusCode, response.Response);

        // The base throws; a relay carries on with the recipients that were accepted.
        protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
            Attempt?.RecipientReplied(mailbox, (int)response.StatusCode, response.Response);

        // The bytes go out as spooled: no 7-bit downgrade, no re-folding, no line splitting.
        protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
        {
        }

        protected override long GetSize(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            MessageSize;

        protected override Task<long> GetSizeAsync(FormatOptions options, MimeMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(MessageSize);
    }
}
