using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding.Bounces;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// One delivery attempt of one claimed message, from the transport call to the message's next
    /// state: records each recipient's result, fails what waited too long, bounces what failed,
    /// and hands the record to <see cref="SpoolLease.Finish"/>.
    /// </summary>
    /// <remarks>
    /// The order is what makes it crash-safe: the bounce is committed to the spool before the
    /// record says "failed" (a crash in between bounces twice, never not at all), and the record
    /// says "delivered" before the message leaves <c>active/</c>. What is not covered is the time
    /// between the next hop's acknowledgment and <see cref="SpoolLease.Finish"/>: a crash there
    /// sends those recipients again (at least once, never lost).
    /// </remarks>
    internal sealed class MessageAttempt
    {
        readonly ForwarderOptions _options;
        readonly BounceSpooler _bounces;

        public MessageAttempt(ForwarderOptions options, BounceSpooler bounces)
        {
            _options = options;
            _bounces = bounces;
        }

        /// <summary>Delivers the pending recipients of <paramref name="claim"/>.</summary>
        /// <returns>What became of it, for counters and events.</returns>
        /// <exception cref="OperationCanceledException">Cancelled before the transport answered;
        /// nothing was recorded and the claim is still held.</exception>
        /// <exception cref="SpoolException">Recording or moving failed; the claim is still held.</exception>
        public async Task<AttemptOutcome> RunAsync(ClaimedMessage claim, CancellationToken cancellationToken)
        {
            var status = claim.Status;
            var envelope = claim.Envelope;
            var pending = new List<OutgoingRecipient>();
            for (var i = 0; i < envelope.Recipients.Count; i++)
                if (status.StatusOf(i) == RecipientStatus.Pending)
                    pending.Add(new OutgoingRecipient(i, EnvelopeAddress.Bare(envelope.Recipients[i].Address)));

            DeliveryResult result = null;
            if (pending.Count > 0)
            {
                var message = new OutgoingMessage(envelope, pending, claim.OpenBody);
                result = await _options.Transport.DeliverAsync(message, cancellationToken).ConfigureAwait(false);
            }

            var now = DateTimeOffset.UtcNow;
            status.Attempts++;
            if (status.FirstAttempt == null) status.FirstAttempt = now;
            status.LastAttempt = now;
            status.NextAttempt = null;

            var outcome = new AttemptOutcome();
            var newlyFailed = new List<RecipientResult>();
            var deferred = new List<RecipientResult>();
            foreach (var r in result?.Recipients ?? Array.Empty<RecipientResult>())
            {
                var progress = status.For(r.Recipient.Index);
                progress.Time = now;
                progress.StatusCode = r.Status;
                progress.Diagnostic = r.Diagnostic;
                switch (r.Outcome)
                {
                    case DeliveryOutcome.Delivered:
                        progress.Status = RecipientStatus.Delivered;
                        outcome.Delivered++;
                        break;
                    case DeliveryOutcome.Failed:
                        progress.Status = RecipientStatus.Failed;
                        newlyFailed.Add(r);
                        status.LastError = r.Diagnostic;
                        break;
                    default:
                        deferred.Add(r);
                        status.LastError = r.Diagnostic;
                        break;
                }
            }

            // A recipient the transport said nothing about was not delivered: keep it for a retry
            // rather than let the message be deleted as done.
            var answered = new HashSet<int>();
            foreach (var r in result?.Recipients ?? Array.Empty<RecipientResult>()) answered.Add(r.Recipient.Index);
            foreach (var p in pending)
            {
                if (answered.Contains(p.Index)) continue;
                var missing = new RecipientResult(p, DeliveryOutcome.Deferred, "4.3.0", "the transport reported no result for this recipient", "x-local");
                var progress = status.For(p.Index);
                progress.Time = now;
                progress.StatusCode = missing.Status;
                progress.Diagnostic = missing.Diagnostic;
                deferred.Add(missing);
                status.LastError = missing.Diagnostic;
            }

            // Waited too long: what would be deferred fails instead (RFC 3463 4.4.7).
            var since = status.Released.HasValue && status.Released > envelope.Received ? status.Released.Value : envelope.Received;
            if (deferred.Count > 0 && _options.Retry.IsExpired(since, now))
            {
                foreach (var r in deferred)
                {
                    var expired = new RecipientResult(r.Recipient, DeliveryOutcome.Failed, "4.4.7",
                        "delivery time expired after " + Math.Round((now - since).TotalHours, 1) + " hours; last error: " + r.Diagnostic,
                        r.DiagnosticType);
                    var progress = status.For(r.Recipient.Index);
                    progress.Status = RecipientStatus.Failed;
                    progress.StatusCode = expired.Status;
                    progress.Diagnostic = expired.Diagnostic;
                    newlyFailed.Add(expired);
                }
                deferred.Clear();
            }

            var keepFailed = false;
            if (newlyFailed.Count > 0)
            {
                outcome.Failed = newlyFailed;
                if (_options.NoBounce || !BouncePolicy.ShouldBounce(envelope)) keepFailed = true;
                else
                {
                    outcome.BounceId = _bounces.TrySpool(claim, newlyFailed, result?.RemoteMta, now, out var bounceError);
                    if (outcome.BounceId == null)
                    {
                        keepFailed = true;   // the failure is kept in failed/ for an administrator rather than lost
                        outcome.BounceError = bounceError;
                    }
                }
            }
            else if (HasFailed(status, envelope.Recipients.Count) && _options.NoBounce)
            {
                keepFailed = true;
            }

            SpoolState? next;
            if (deferred.Count > 0)
            {
                status.NextAttempt = now + _options.Retry.DelayAfter(status.Attempts);
                next = SpoolState.Deferred;
                outcome.Deferred = deferred;
            }
            else if (keepFailed || (HasFailed(status, envelope.Recipients.Count) && !BouncePolicy.ShouldBounce(envelope)))
            {
                next = SpoolState.Failed;
            }
            else
            {
                next = null;   // every recipient delivered or bounced: done
            }
            claim.Lease.Finish(claim, next);
            outcome.Next = next;
            outcome.RemoteMta = result?.RemoteMta;
            return outcome;
        }

        static bool HasFailed(DeliveryStatus status, int count)
        {
            for (var i = 0; i < count; i++)
                if (status.StatusOf(i) == RecipientStatus.Failed) return true;
            return false;
        }
    }
}
