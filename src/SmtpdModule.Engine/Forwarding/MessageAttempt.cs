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
            var pending = PendingRecipients(claim);
            var result = await SendAsync(claim, pending, cancellationToken).ConfigureAwait(false);

            var now = DateTimeOffset.UtcNow;
            var status = claim.Status;
            StampAttempt(status, now);
            var outcome = new AttemptOutcome { RemoteMta = result?.RemoteMta };
            var failed = new List<RecipientResult>();
            var deferred = new List<RecipientResult>();
            RecordAnswers(status, result, now, outcome, failed, deferred);
            DeferUnanswered(status, pending, result, now, deferred);
            ExpireOverdue(claim, now, failed, deferred);

            var keepFailed = BounceFailed(claim, failed, result?.RemoteMta, now, outcome);
            outcome.Next = NextState(claim, keepFailed, now, deferred, outcome);
            claim.Lease.Finish(claim, outcome.Next);
            return outcome;
        }

        /// <summary>The recipients no earlier attempt settled.</summary>
        static List<OutgoingRecipient> PendingRecipients(ClaimedMessage claim)
        {
            var envelope = claim.Envelope;
            var pending = new List<OutgoingRecipient>();
            for (var i = 0; i < envelope.Recipients.Count; i++)
                if (claim.Status.StatusOf(i) == RecipientStatus.Pending)
                    pending.Add(new OutgoingRecipient(i, EnvelopeAddress.Bare(envelope.Recipients[i].Address)));
            return pending;
        }

        /// <summary>Hands the message to the transport; null when there is no one left to send to.</summary>
        async Task<DeliveryResult> SendAsync(ClaimedMessage claim, List<OutgoingRecipient> pending, CancellationToken cancellationToken)
        {
            if (pending.Count == 0) return null;
            var message = new OutgoingMessage(claim.Envelope, pending, claim.OpenBody);
            return await _options.Transport.DeliverAsync(message, cancellationToken).ConfigureAwait(false);
        }

        static void StampAttempt(DeliveryStatus status, DateTimeOffset now)
        {
            status.Attempts++;
            if (status.FirstAttempt == null) status.FirstAttempt = now;
            status.LastAttempt = now;
            status.NextAttempt = null;
        }

        /// <summary>Records each recipient the transport answered for, sorting the failed and the deferred out.</summary>
        static void RecordAnswers(DeliveryStatus status, DeliveryResult result, DateTimeOffset now, AttemptOutcome outcome,
                                  List<RecipientResult> failed, List<RecipientResult> deferred)
        {
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
                        failed.Add(r);
                        status.LastError = r.Diagnostic;
                        break;
                    default:
                        deferred.Add(r);
                        status.LastError = r.Diagnostic;
                        break;
                }
            }
        }

        /// <summary>
        /// A recipient the transport said nothing about was not delivered: keep it for a retry
        /// rather than let the message be deleted as done.
        /// </summary>
        static void DeferUnanswered(DeliveryStatus status, List<OutgoingRecipient> pending, DeliveryResult result, DateTimeOffset now,
                                    List<RecipientResult> deferred)
        {
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
        }

        /// <summary>Waited too long: what would be deferred fails instead (RFC 3463 4.4.7).</summary>
        void ExpireOverdue(ClaimedMessage claim, DateTimeOffset now, List<RecipientResult> failed, List<RecipientResult> deferred)
        {
            var status = claim.Status;
            var received = claim.Envelope.Received;
            var since = status.Released.HasValue && status.Released > received ? status.Released.Value : received;
            if (deferred.Count == 0 || !_options.Retry.IsExpired(since, now)) return;
            foreach (var r in deferred)
            {
                var expired = new RecipientResult(r.Recipient, DeliveryOutcome.Failed, "4.4.7",
                    "delivery time expired after " + Math.Round((now - since).TotalHours, 1) + " hours; last error: " + r.Diagnostic,
                    r.DiagnosticType);
                var progress = status.For(r.Recipient.Index);
                progress.Status = RecipientStatus.Failed;
                progress.StatusCode = expired.Status;
                progress.Diagnostic = expired.Diagnostic;
                failed.Add(expired);
            }
            deferred.Clear();
        }

        /// <summary>Spools the bounce for the recipients that failed in this attempt.</summary>
        /// <returns>True when the message is to be kept in <c>failed/</c>: no bounce is wanted, or it could not be made.</returns>
        bool BounceFailed(ClaimedMessage claim, List<RecipientResult> failed, string remoteMta, DateTimeOffset now, AttemptOutcome outcome)
        {
            var envelope = claim.Envelope;
            if (failed.Count == 0)
                return HasFailed(claim.Status, envelope.Recipients.Count) && _options.NoBounce;
            outcome.Failed = failed;
            if (_options.NoBounce || !BouncePolicy.ShouldBounce(envelope)) return true;
            outcome.BounceId = _bounces.TrySpool(claim, failed, remoteMta, now, out var bounceError);
            if (outcome.BounceId != null) return false;
            outcome.BounceError = bounceError;
            return true;   // the failure is kept in failed/ for an administrator rather than lost
        }

        /// <summary>Where the message goes: deferred/ with its next attempt, failed/, or nowhere (null) when done.</summary>
        SpoolState? NextState(ClaimedMessage claim, bool keepFailed, DateTimeOffset now, List<RecipientResult> deferred, AttemptOutcome outcome)
        {
            var status = claim.Status;
            var envelope = claim.Envelope;
            if (deferred.Count > 0)
            {
                status.NextAttempt = now + _options.Retry.DelayAfter(status.Attempts);
                outcome.Deferred = deferred;
                return SpoolState.Deferred;
            }
            if (keepFailed || (HasFailed(status, envelope.Recipients.Count) && !BouncePolicy.ShouldBounce(envelope)))
                return SpoolState.Failed;
            return null;   // every recipient delivered or bounced: done
        }

        static bool HasFailed(DeliveryStatus status, int count)
        {
            for (var i = 0; i < count; i++)
                if (status.StatusOf(i) == RecipientStatus.Failed) return true;
            return false;
        }
    }
}
