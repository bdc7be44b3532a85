using System;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>What one <c>Start-SmtpFwd -Once</c> run did.</summary>
    public sealed class ForwardSummary
    {
        internal ForwardSummary(string spoolPath, string target, long forwarded, long deferred, long failed, long bounced, long errors, TimeSpan elapsed,
                                long waiting = 0, DateTimeOffset? nextDue = null)
        {
            Waiting = waiting;
            NextDue = nextDue;
            SpoolPath = spoolPath;
            Target = target;
            Forwarded = forwarded;
            Deferred = deferred;
            Failed = failed;
            Bounced = bounced;
            Errors = errors;
            Elapsed = elapsed;
        }

        public string SpoolPath { get; }
        public string Target { get; }

        /// <summary>Messages delivered to every recipient tried.</summary>
        public long Forwarded { get; }

        /// <summary>Messages left in the spool for a later attempt.</summary>
        public long Deferred { get; }

        /// <summary>Messages with a recipient that failed for good.</summary>
        public long Failed { get; }

        /// <summary>Delivery status notifications spooled (and, being due, sent in the same run).</summary>
        public long Bounced { get; }

        /// <summary>Spool errors (unreadable or corrupt files); each is an <c>error</c> event in the log and on the verbose stream.</summary>
        public long Errors { get; }

        public TimeSpan Elapsed { get; }

        /// <summary>Messages in <c>deferred/</c> when the run ended, not due yet: a run that
        /// forwarded nothing is not an empty spool.</summary>
        public long Waiting { get; }

        /// <summary>When the first of the <see cref="Waiting"/> messages is due; null when none waits.</summary>
        public DateTimeOffset? NextDue { get; }
    }
}
