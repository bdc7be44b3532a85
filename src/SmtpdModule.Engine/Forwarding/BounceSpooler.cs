using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Forwarding.Bounces;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// Puts a delivery status notification for a failed message into the spool, as a new message
    /// from <c>&lt;&gt;</c> to the original sender, committed like mail the proxy accepts, so it
    /// is delivered (and retried) like any other.
    /// </summary>
    internal sealed class BounceSpooler
    {
        readonly SpoolWriter _writer;
        readonly string _hostName;

        public BounceSpooler(SpoolWriter writer, string hostName)
        {
            _writer = writer;
            _hostName = hostName;
        }

        /// <returns>The id of the spooled bounce, or null when it could not be built or stored
        /// (<paramref name="error"/> says why).</returns>
        public string TrySpool(ClaimedMessage claim, IReadOnlyList<RecipientResult> failed, string remoteMta, DateTimeOffset now, out string error)
        {
            error = null;
            IncomingMessage incoming = null;
            try
            {
                BounceMessage bounce;
                using (var original = claim.OpenBody())
                    bounce = BounceBuilder.BuildAsync(claim.Envelope, original, failed, now, remoteMta, _hostName).GetAwaiter().GetResult();

                var envelope = new Envelope
                {
                    Received = now,
                    ClientAddress = "127.0.0.1",
                    ClientName = _hostName,
                    From = bounce.From,
                    Protocol = "LOCAL",
                    Body = bounce.Body,
                    SmtpUtf8 = bounce.SmtpUtf8,
                };
                envelope.Recipients.Add(new EnvelopeRecipient(bounce.Recipient));
                incoming = _writer.BeginMessage(envelope);
                var bytes = bounce.ToArray();
                incoming.Body.Write(bytes, 0, bytes.Length);
                _writer.CommitAsync(incoming).GetAwaiter().GetResult();
                return envelope.Id;
            }
            catch (Exception ex) when (ex is SpoolException || ex is System.IO.IOException || ex is ArgumentException || ex is UnauthorizedAccessException)
            {
                if (incoming != null) _writer.Abort(incoming);
                error = ex.Message;
                return null;
            }
        }
    }
}
