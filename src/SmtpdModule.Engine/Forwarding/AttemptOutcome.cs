using System.Collections.Generic;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>What one <see cref="MessageAttempt"/> did, for counters and events.</summary>
    internal sealed class AttemptOutcome
    {
        public int Delivered { get; set; }
        public IReadOnlyList<RecipientResult> Deferred { get; set; } = new RecipientResult[0];
        public IReadOnlyList<RecipientResult> Failed { get; set; } = new RecipientResult[0];

        /// <summary>The message's next state; null when it is done and gone.</summary>
        public SpoolState? Next { get; set; }

        public string BounceId { get; set; }
        public string BounceError { get; set; }
        public string RemoteMta { get; set; }

        /// <summary>The event that reports this attempt of message <paramref name="id"/>: its kind
        /// is the worst that happened (deferred, failed, forwarded), its reason the first such recipient's.</summary>
        public ProxyEvent ToEvent(string id)
        {
            var data = new List<KeyValuePair<string, object>>
            {
                new KeyValuePair<string, object>("delivered", Delivered),
                new KeyValuePair<string, object>("deferred", Deferred.Count),
                new KeyValuePair<string, object>("failed", Failed.Count),
                new KeyValuePair<string, object>("relay", RemoteMta),
                new KeyValuePair<string, object>("next", Next?.ToString() ?? "done"),
            };
            if (BounceId != null) data.Add(new KeyValuePair<string, object>("bounce", BounceId));
            var kind = Deferred.Count > 0 ? "deferred" : Failed.Count > 0 ? "failed" : "forwarded";
            var reason = Deferred.Count > 0 ? Deferred[0].Diagnostic
                       : Failed.Count > 0 ? Failed[0].Diagnostic : null;
            if (BounceError != null) reason += "; bounce not possible: " + BounceError;
            return new ProxyEvent(kind, id, null, reason, data);
        }
    }
}
