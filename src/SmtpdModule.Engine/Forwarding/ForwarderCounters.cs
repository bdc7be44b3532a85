using System;
using System.Threading;
using SmtpdModule.Engine.Diagnostics;

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

        /// <summary>How long each delivery attempt took, in seconds, whatever its outcome.</summary>
        public Histogram AttemptDuration { get; } = new Histogram(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300);

        /// <summary>Each message's time in the spool, in seconds, from its acceptance to the attempt that
        /// finished it having delivered at least one recipient.</summary>
        public Histogram TimeInSpool { get; } = new Histogram(1, 5, 15, 60, 300, 900, 3600, 14400, 86400, 432000);

        /// <summary>Records one finished attempt's timing (the spool time once the message is done).</summary>
        internal void AddTiming(TimeSpan attempt, AttemptOutcome outcome, DateTimeOffset received, DateTimeOffset now)
        {
            AttemptDuration.Observe(attempt.TotalSeconds);
            if (outcome != null && outcome.Next == null && outcome.Delivered > 0)
                TimeInSpool.Observe(Math.Max(0, (now - received).TotalSeconds));
        }

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
