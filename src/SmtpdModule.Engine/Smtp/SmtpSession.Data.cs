using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    // DATA: the envelope and the body go to the spool, and the 250 comes only after the commit.
    internal sealed partial class SmtpSession
    {
        /// <summary>Every end of the transaction, refused or queued, is Done: the table moves the
        /// session back to greeted.</summary>
        async Task<Outcome> DataAsync()
        {
            var received = DateTimeOffset.Now;
            var protocol = ReceivedHeader.Protocol(_known.Esmtp, SessionStateTable.IsSecure(_state), authenticated: false, smtpUtf8: _mail.SmtpUtf8);
            // The SPF result first (it is awaited before the 354 in any case): the envelope records it.
            var spf = await _rt.Pipeline.SpfResultAsync(_known).ConfigureAwait(false);
            // The 354 before the spool's file: the client's text is on its way while the spool
            // takes a slot and writes the envelope, which so costs no round trip. A spool that
            // fails here has the text read and refused at its end, as one that fails later.
            _io.Write(Replies.StartData);
            await _io.FlushAsync().ConfigureAwait(false);
            IncomingMessage message;
            try { message = _rt.Spool.BeginMessage(NewEnvelope(received, protocol)); }
            catch (SpoolException ex)
            {
                Log("error", "spool: " + ex.Reason);
                return await RefuseTextAsync(ex.Reason).ConfigureAwait(false);
            }

            using (message)
            {
                // Our fields go in before the filter: only the client's fields are checked.
                var firewall = new HeaderFirewallStream(message.Body, _rt.RemoveHeaders, _rt.AuthServId);
                SmtpConnection.DataResult data;
                try
                {
                    data = await ReceiveBodyAsync(message, firewall, received, protocol, spf).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException && !(ex is EndOfStreamException) || ex is UnauthorizedAccessException)
                {
                    return await SpoolFailedAsync(message, ex).ConfigureAwait(false);
                }

                if (data.Status != SmtpConnection.ReadStatus.Ok)
                {
                    _rt.Spool.Abort(message);
                    Log("data", "aborted: " + data.Status, F("bytes", data.Size));
                    return data.Status == SmtpConnection.ReadStatus.Timeout ? await CloseWithAsync(Replies.Timeout).ConfigureAwait(false) : Outcome.Closed;
                }
                var refusal = Unacceptable(data, out var why);
                if (refusal != null)
                {
                    _rt.Spool.Abort(message);
                    Log("rejected", why, F("bytes", data.Size), F("bareLineEndings", data.BareLineEndings));
                    return Done(refusal);
                }
                return await CommitAsync(message, data, firewall).ConfigureAwait(false);
            }
        }

        /// <summary>The envelope is complete before the body: the spool writes it ahead of the body, in the same file.</summary>
        Envelope NewEnvelope(DateTimeOffset received, string protocol)
        {
            var envelope = new Envelope
            {
                Received = received,
                ClientAddress = _peer.Text,
                ClientName = _known.ClientName,
                Helo = _known.Helo,
                From = _known.Sender.Text,
                Protocol = protocol,
                Body = _mail.Body == BodyType.EightBitMime ? EnvelopeBodyType.EightBitMime : EnvelopeBodyType.SevenBit,
                SmtpUtf8 = _mail.SmtpUtf8,
            };
            for (var i = 0; i < _known.Recipients.Count; i++)
            {
                var decision = _known.DecisionOf(i, out var sha);
                envelope.Recipients.Add(new EnvelopeRecipient(_known.Recipients[i].Text)
                                        { Provenance = ProvenanceOf.Recipient(decision, sha, _known.Results) });
            }
            return envelope;
        }

        /// <summary>Our Received: field, then the client's text into the spool (through the header filter).</summary>
        async Task<SmtpConnection.DataResult> ReceiveBodyAsync(IncomingMessage message, HeaderFirewallStream firewall, DateTimeOffset received, string protocol,
                                                               Spf.SpfCheckResult spf)
        {
            var header = ReceivedHeader.Build(_known.Helo, _known.ClientName, _peer.Text, _rt.Options.HostName, protocol, message.Id,
                                              _known.Recipients.Count == 1 ? "<" + _known.Recipients[0].Mailbox + ">" : null, received);
            // The SPF result above our Received: field (RFC 7208 §9.1), as RFC 8601 §4 places its field too.
            if (spf != null)
                header = Spf.SpfHeaders.AuthenticationResults(spf, _rt.AuthServId)
                         + Spf.SpfHeaders.ReceivedSpf(spf, _peer.Text, _known.Helo, _rt.Options.HostName) + header;
            var bytes = System.Text.Encoding.UTF8.GetBytes(header);
            await message.Body.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
            // The size this session's EHLO announced: the downstream's, when smaller than our own.
            var data = await _io.ReadDataAsync(firewall, _rt.Pipeline.MaxMessageSize(_known), Limits.MaxTextLine,
                                               _rt.Options.BareLineEnding == BareLineEndingPolicy.Reject).ConfigureAwait(false);
            if (data.Status == SmtpConnection.ReadStatus.Ok) firewall.Complete();
            return data;
        }

        /// <summary>The spool failed under us: read the rest, refuse, keep the session. A full disk is
        /// 452 4.3.1 (try later, RFC 3463); any other storage fault 451 4.3.0.</summary>
        async Task<Outcome> SpoolFailedAsync(IncomingMessage message, Exception ex)
        {
            _rt.Spool.Abort(message);
            var reason = SpoolWriter.ReasonFor(ex);
            Log("error", "spool write failed (" + reason + "): " + ex.Message);
            return await RefuseTextAsync(reason).ConfigureAwait(false);
        }

        /// <summary>Reads the client's text to its end, keeping none of it, and refuses it.</summary>
        async Task<Outcome> RefuseTextAsync(SpoolErrorReason reason)
        {
            var rest = await _io.ReadDataAsync(null, long.MaxValue, int.MaxValue).ConfigureAwait(false);
            // 452 4.3.1 only when the disk is full; an unwritable spool is a local error (451 4.3.0).
            return rest.Status != SmtpConnection.ReadStatus.Ok ? Outcome.Closed
                : Done(reason == SpoolErrorReason.Full ? Replies.InsufficientStorage : Replies.LocalError);
        }

        /// <summary>A complete message the limits refuse: too big, a line too long, bare line endings (when refused).</summary>
        SmtpReply Unacceptable(SmtpConnection.DataResult data, out string why)
        {
            why = data.TooBig ? "message too big (over " + _rt.Pipeline.MaxMessageSize(_known) + " bytes)" : data.LineTooLong ? "line too long" : "bare CR or LF in text";
            if (data.TooBig) return Replies.MessageTooBig;
            if (data.LineTooLong) return Replies.TextLineTooLong;
            if (data.BareLineEndings > 0 && _rt.Options.BareLineEnding == BareLineEndingPolicy.Reject) return Replies.BareLineEnding;
            return null;
        }

        /// <summary>The 250 only after the spool's commit (the file synced to the disk) returned.</summary>
        async Task<Outcome> CommitAsync(IncomingMessage message, SmtpConnection.DataResult data, HeaderFirewallStream firewall)
        {
            try
            {
                await _rt.Spool.CommitAsync(message).ConfigureAwait(false);
            }
            catch (SpoolException ex)
            {
                Log("error", "spool commit failed: " + ex.Reason);
                return Done(ex.Reason == SpoolErrorReason.Full ? Replies.InsufficientStorage : Replies.LocalError);
            }
            _rt.Counters.MessageAccepted(data.Size);
            Log("accepted", message.Id, F("id", message.Id), F("bytes", data.Size), F("from", _known.Sender.Text),
                F("to", _known.Recipients.Select(r => r.Text).ToList()), F("bareLineEndings", data.BareLineEndings),
                F("headersRemoved", firewall.Removed));
            return Done(new SmtpReply(250, "2.0.0", "OK queued as " + message.Id));
        }
    }
}
