using System.Threading;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>Live counts of one forwarder, safe to read from any thread.</summary>
    public sealed class ForwarderCounters
    {
        long _attempts, _forwarded, _deferred, _failed, _bounced, _delivered, _active, _errors;

        /// <summary>Delivery attempts started.</summary>
        public long Attempts => Interlocked.Read(ref _attempts);

        /// <summary>Messages whose attempt delivered every recipient it tried.</summary>
        public long Forwarded => Interlocked.Read(ref _forwarded);

        /// <summary>Attempts that left recipients for a later try.</summary>
        public long Deferred => Interlocked.Read(ref _deferred);

        /// <summary>Attempts that failed a recipient for good (and no recipient was deferred).</summary>
        public long Failed => Interlocked.Read(ref _failed);

        /// <summary>Delivery status notifications spooled.</summary>
        public long Bounced => Interlocked.Read(ref _bounced);

        /// <summary>Recipients delivered.</summary>
        public long RecipientsDelivered => Interlocked.Read(ref _delivered);

        /// <summary>Messages being delivered now.</summary>
        public long Active => Interlocked.Read(ref _active);

        /// <summary>Spool errors met (unreadable files, failed renames).</summary>
        public long Errors => Interlocked.Read(ref _errors);

        internal void AddAttempt() { Interlocked.Increment(ref _attempts); Interlocked.Increment(ref _active); }
        internal void EndAttempt() => Interlocked.Decrement(ref _active);
        internal void AddForwarded() => Interlocked.Increment(ref _forwarded);
        internal void AddDeferred() => Interlocked.Increment(ref _deferred);
        internal void AddFailed() => Interlocked.Increment(ref _failed);
        internal void AddBounce() => Interlocked.Increment(ref _bounced);
        internal void AddDelivered(int n) => Interlocked.Add(ref _delivered, n);
        internal void AddError() => Interlocked.Increment(ref _errors);

        /// <summary>Counts a finished attempt: as deferred if any recipient was, else failed if any was, else forwarded.</summary>
        internal void AddOutcome(AttemptOutcome outcome)
        {
            AddDelivered(outcome.Delivered);
            if (outcome.Deferred.Count > 0) AddDeferred();
            else if (outcome.Failed.Count > 0) AddFailed();
            else AddForwarded();
            if (outcome.BounceId != null) AddBounce();
        }
    }
}
