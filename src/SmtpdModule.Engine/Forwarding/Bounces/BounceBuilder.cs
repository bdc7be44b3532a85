using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Utils;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding.Bounces
{
    /// <summary>
    /// Writes the bounce the forwarder sends when recipients fail for good: a delivery status
    /// notification (RFC 3464) in a multipart/report (RFC 6522) from the null path to the original
    /// sender. Its three parts are a short explanation for people, the machine-readable report
    /// (one block for the message, one per failed recipient), and the header section of the
    /// returned message, never its body: the sender has the body, and returning it would make
    /// every bounce as large as the mail that caused it.
    /// </summary>
    /// <remarks>
    /// <para>Trusted: the envelope as the spool wrote it and our own host name. Not trusted: the
    /// returned message's header (the client wrote it: lines of any length, NUL, bare CR, 8-bit
    /// octets), and diagnostics (a remote server or a program wrote them). Those are read with a
    /// bound and cleaned by <see cref="OriginalHeaderSection"/> and <see cref="DsnFieldText"/>, so
    /// that whatever came in, the bounce has CRLF line ends, no line over 998 octets, and a size
    /// bounded by the number of failed recipients.</para>
    /// <para>Mail that needed SMTPUTF8 gets the RFC 6533 forms: message/global-delivery-status,
    /// <c>utf-8</c> address types and message/global-headers (RFC 6532). Otherwise everything is
    /// 7-bit: 8-bit octets in the returned header travel quoted-printable, and non-ASCII in a
    /// diagnostic becomes '?'.</para>
    /// </remarks>
    public static class BounceBuilder
    {
        /// <summary>The most octets of the returned message read to find its header section.</summary>
        public const int HeaderSectionLimit = 64 * 1024;

        /// <summary>The subject of every bounce.</summary>
        public const string Subject = "Undeliverable mail returned to sender";

        /// <summary>Our extension field (RFC 3464 §2.1 allows <c>X-</c> fields) carrying the spool
        /// id, so that an administrator handed a bounce can find the log lines.</summary>
        public const string SpoolIdField = "X-SmtpdModule-Spool-Id";

        /// <summary>Builds the bounce for the recipients of one message that failed permanently.</summary>
        /// <param name="original">The envelope of the message being returned. Its sender must not
        /// be the null path: check <see cref="BouncePolicy.ShouldBounce(Envelope)"/> first.</param>
        /// <param name="originalMessage">The message bytes from their first octet (our
        /// <c>Received:</c> header). Read up to the end of the header section and at most
        /// <see cref="HeaderSectionLimit"/> octets; not disposed; its position afterwards is
        /// unspecified.</param>
        /// <param name="failed">The failed recipients, each with outcome
        /// <see cref="DeliveryOutcome.Failed"/>, in the order they are to be listed.</param>
        /// <param name="lastAttempt">When delivery was last tried (<c>Last-Attempt-Date</c>).</param>
        /// <param name="remoteMta">The server that refused (<c>Remote-MTA</c>), or null when there
        /// was none (no connection, a local program).</param>
        /// <param name="reportingMta">Our host name: <c>Reporting-MTA</c>, the domain of the
        /// <c>MAILER-DAEMON</c> sender and of the <c>Message-Id</c>. Letters, digits and
        /// <c>.-_:[]</c> only.</param>
        /// <param name="cancellationToken">Stops the read of <paramref name="originalMessage"/>.</param>
        /// <returns>The bounce, dated now, with its envelope paths.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="original"/>,
        /// <paramref name="originalMessage"/>, <paramref name="failed"/> or
        /// <paramref name="reportingMta"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="failed"/> is empty, holds null or a
        /// result that is not <see cref="DeliveryOutcome.Failed"/>; the original sender is the null
        /// path; or <paramref name="reportingMta"/> is not a host name.</exception>
        /// <exception cref="IOException"><paramref name="originalMessage"/> cannot be read.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static Task<BounceMessage> BuildAsync(Envelope original, Stream originalMessage, IReadOnlyList<RecipientResult> failed,
                                                     DateTimeOffset lastAttempt, string remoteMta, string reportingMta,
                                                     CancellationToken cancellationToken = default)
        {
            if (original == null) throw new ArgumentNullException(nameof(original));
            if (originalMessage == null) throw new ArgumentNullException(nameof(originalMessage));
            if (failed == null) throw new ArgumentNullException(nameof(failed));
            if (reportingMta == null) throw new ArgumentNullException(nameof(reportingMta));
            if (!DsnFieldText.IsHostName(reportingMta))
                throw new ArgumentException("'" + reportingMta + "' is not a host name.", nameof(reportingMta));
            if (!BouncePolicy.ShouldBounce(original))
                throw new ArgumentException("The sender is the null path, which is never bounced (RFC 5321 §6.1).", nameof(original));
            if (failed.Count == 0) throw new ArgumentException("There are no failed recipients to report.", nameof(failed));
            foreach (var result in failed)
            {
                if (result == null || result.Recipient == null)
                    throw new ArgumentException("A failed recipient is null.", nameof(failed));
                if (result.Outcome != DeliveryOutcome.Failed)
                    throw new ArgumentException("Recipient " + result.Recipient + " did not fail but was " + result.Outcome + ".", nameof(failed));
            }
            return BuildCheckedAsync(original, originalMessage, failed, lastAttempt, remoteMta, reportingMta, cancellationToken);
        }

        static async Task<BounceMessage> BuildCheckedAsync(Envelope original, Stream originalMessage, IReadOnlyList<RecipientResult> failed,
                                                           DateTimeOffset lastAttempt, string remoteMta, string reportingMta,
                                                           CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sender = Mailbox(original.From);
            var utf8 = NeedsUtf8(original, sender, failed);
            var header = await OriginalHeaderSection.ReadAsync(originalMessage, HeaderSectionLimit, utf8, cancellationToken).ConfigureAwait(false);
            return Compose(original, sender, header, failed, lastAttempt, DsnFieldText.HostName(remoteMta), reportingMta, DateTimeOffset.UtcNow, utf8);
        }

        /// <summary>The reverse path without brackets or a source route: RFC 5321 §4.1.1.2 lets a
        /// receiver ignore the route, and a bounce goes to the mailbox.</summary>
        static string Mailbox(string reversePath)
        {
            var bare = EnvelopeAddress.Bare(reversePath).Trim();
            if (bare.StartsWith("@", StringComparison.Ordinal))
            {
                var colon = bare.IndexOf(':');
                if (colon >= 0) bare = bare.Substring(colon + 1);
            }
            return bare;
        }

        /// <summary>RFC 6533 forms are needed when the message came with SMTPUTF8 or an address
        /// in the report is not ASCII (which SMTPUTF8 alone allows). The return path then speaks
        /// SMTPUTF8, because the message came along it that way.</summary>
        static bool NeedsUtf8(Envelope original, string sender, IReadOnlyList<RecipientResult> failed)
        {
            if (original.SmtpUtf8 || !DsnFieldText.IsAscii(sender)) return true;
            foreach (var result in failed)
                if (!DsnFieldText.IsAscii(result.Recipient.Address)) return true;
            return false;
        }

        static BounceMessage Compose(Envelope original, string sender, OriginalHeaderSection header, IReadOnlyList<RecipientResult> failed,
                                     DateTimeOffset lastAttempt, string remoteMta, string reportingMta, DateTimeOffset created, bool utf8)
        {
            var message = new MimeMessage();
            message.From.Add(new MailboxAddress("Mail Delivery System", "MAILER-DAEMON@" + reportingMta));
            AddTo(message, sender, utf8);
            message.Subject = Subject;
            message.Date = created;
            message.MessageId = MimeUtils.GenerateMessageId(reportingMta);
            // RFC 3834 §5: marks the bounce as machine-made, so that vacation responders and
            // list software leave it alone.
            message.Headers.Add("Auto-Submitted", "auto-replied");

            var report = new MultipartReport("delivery-status");
            report.Add(Explanation(original, failed, remoteMta, reportingMta, header, utf8));
            report.Add(StatusPart(original, failed, lastAttempt, remoteMta, reportingMta, utf8));
            // RFC 3464 §2: the third part is optional; an empty header section shows nothing.
            if (header.Bytes.Length > 0) report.Add(HeaderPart(header, utf8));
            message.Body = report;

            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            options.International = utf8;
            using (var output = new MemoryStream())
            {
                message.WriteTo(options, output);
                return new BounceMessage(output.ToArray(), "<" + sender + ">", message.MessageId, utf8);
            }
        }

        static void AddTo(MimeMessage message, string sender, bool utf8)
        {
            if (MailboxAddress.TryParse(ParserOptions.Default, sender, out var mailbox) && mailbox.Route.Count == 0)
            {
                message.To.Add(mailbox);
                return;
            }
            // An address MimeKit will not take (the receiver may accept odd paths when not strict)
            // still goes in, cleaned, as an angle-bracketed address: the envelope is what delivers.
            var header = new Header(HeaderId.To, "");
            header.SetRawValue(Encoding.UTF8.GetBytes(" <" + DsnFieldText.Address(sender, utf8) + ">\r\n"));
            message.Headers.Add(header);
        }

        static TextPart Explanation(Envelope original, IReadOnlyList<RecipientResult> failed, string remoteMta, string reportingMta,
                                    OriginalHeaderSection header, bool utf8)
        {
            var text = new StringBuilder();
            text.Append("This is the mail delivery system at ").Append(reportingMta).Append(".\r\n\r\n");
            text.Append(failed.Count == 1
                ? "Your message could not be delivered to the recipient below."
                : "Your message could not be delivered to the " + failed.Count.ToString(CultureInfo.InvariantCulture) + " recipients below.");
            text.Append("\r\nThe failure is permanent: delivery will not be tried again.\r\n\r\n");
            text.Append("Message received: ").Append(DateUtils.FormatDate(original.Received)).Append("\r\n");
            if (IsSpoolId(original.Id)) text.Append("Spool id: ").Append(original.Id).Append("\r\n");
            text.Append("\r\n");
            foreach (var result in failed)
            {
                text.Append("<").Append(DsnFieldText.Address(result.Recipient.Address, utf8)).Append(">\r\n");
                text.Append("    status ").Append(DsnFieldText.Status(result.Status));
                if (remoteMta != null) text.Append(", reported by ").Append(remoteMta);
                text.Append("\r\n");
                var diagnostic = DsnFieldText.Line(result.Diagnostic, utf8, DsnFieldText.DiagnosticLimit);
                if (diagnostic.Length > 0) text.Append("    ").Append(diagnostic).Append("\r\n");
                text.Append("\r\n");
            }
            if (header.Bytes.Length == 0)
                text.Append("The delivery report follows.\r\n");
            else if (header.Truncated)
                text.Append("The delivery report and the header of your message follow; the header was\r\n" +
                            "too long to return whole and has been shortened.\r\n");
            else
                text.Append("The delivery report and the header of your message follow.\r\n");

            var part = new TextPart("plain");
            part.SetText(utf8 ? Encoding.UTF8 : Encoding.ASCII, text.ToString());
            part.ContentTransferEncoding = utf8 ? ContentEncoding.EightBit : ContentEncoding.SevenBit;
            return part;
        }

        /// <summary>The report itself (RFC 3464 §2.2 and §2.3), one field a line.</summary>
        static MimePart StatusPart(Envelope original, IReadOnlyList<RecipientResult> failed, DateTimeOffset lastAttempt,
                                   string remoteMta, string reportingMta, bool utf8)
        {
            var text = new StringBuilder();
            text.Append("Reporting-MTA: dns; ").Append(reportingMta).Append("\r\n");
            if (IsSpoolId(original.Id)) text.Append(SpoolIdField).Append(": ").Append(original.Id).Append("\r\n");
            // The client's name only when DNS verified it: the HELO argument is whatever it said.
            var client = DsnFieldText.HostName(original.ClientName);
            if (client != null) text.Append("Received-From-MTA: dns; ").Append(client).Append("\r\n");
            text.Append("Arrival-Date: ").Append(DateUtils.FormatDate(original.Received)).Append("\r\n");
            // No Original-Envelope-Id: the receiver does not offer DSN (RFC 3461), so there is no ENVID.

            foreach (var result in failed)
            {
                text.Append("\r\n");
                text.Append("Final-Recipient: ").Append(DsnFieldText.AddressField(result.Recipient.Address)).Append("\r\n");
                text.Append("Action: failed\r\n");
                text.Append("Status: ").Append(DsnFieldText.Status(result.Status)).Append("\r\n");
                if (remoteMta != null) text.Append("Remote-MTA: dns; ").Append(remoteMta).Append("\r\n");
                var diagnostic = DsnFieldText.Line(result.Diagnostic, utf8, DsnFieldText.DiagnosticLimit);
                if (diagnostic.Length > 0)
                    text.Append("Diagnostic-Code: ").Append(DsnFieldText.DiagnosticType(result.DiagnosticType)).Append("; ").Append(diagnostic).Append("\r\n");
                text.Append("Last-Attempt-Date: ").Append(DateUtils.FormatDate(lastAttempt)).Append("\r\n");
            }

            var content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(text.ToString()), writable: false));
            // RFC 6533 §6.2: message/global-delivery-status carries UTF-8 as 8bit.
            return utf8
                ? new MimePart("message", "global-delivery-status") { Content = content, ContentTransferEncoding = ContentEncoding.EightBit }
                : new MessageDeliveryStatus { Content = content, ContentTransferEncoding = ContentEncoding.SevenBit };
        }

        static MimePart HeaderPart(OriginalHeaderSection header, bool utf8)
        {
            var content = new MimeContent(new MemoryStream(header.Bytes, writable: false));
            if (utf8)
                return new MimePart("message", "global-headers") { Content = content, ContentTransferEncoding = ContentEncoding.EightBit };
            // text/rfc822-headers is 7-bit (RFC 6522 §4), yet 8-bit header octets are common in mail
            // sent without SMTPUTF8; quoted-printable returns them intact. A plain MimePart rather
            // than MimeKit's TextRfc822Headers, which holds a parsed message and would write its
            // own rendering of the header instead of the cleaned octets.
            return new MimePart("text", "rfc822-headers")
            {
                Content = content,
                ContentTransferEncoding = header.HasEightBit ? ContentEncoding.QuotedPrintable : ContentEncoding.SevenBit,
            };
        }

        /// <summary>Spool ids are ours, but the envelope is read from a file: write one only if it
        /// is a plain token.</summary>
        static bool IsSpoolId(string id)
        {
            if (string.IsNullOrEmpty(id) || id.Length > 128) return false;
            foreach (var c in id)
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
                    return false;
            return true;
        }
    }
}
