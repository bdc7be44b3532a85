using System.Threading;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>Live counters of a proxy; read them at any time from any thread.</summary>
    public sealed class ProxyCounters
    {
        long _sessions, _active, _accepted, _refused, _denied, _bytes;

        /// <summary>Sessions since start.</summary>
        public long Sessions => Interlocked.Read(ref _sessions);
        /// <summary>Sessions open now.</summary>
        public long Active => Interlocked.Read(ref _active);
        /// <summary>Messages committed to the spool.</summary>
        public long Accepted => Interlocked.Read(ref _accepted);
        /// <summary>Recipients refused (noto rules and address checks); the session went on.</summary>
        public long Refused => Interlocked.Read(ref _refused);
        /// <summary>Sessions ended by a deny rule.</summary>
        public long Denied => Interlocked.Read(ref _denied);
        /// <summary>Message bytes committed.</summary>
        public long Bytes => Interlocked.Read(ref _bytes);

        internal void SessionOpened() { Interlocked.Increment(ref _sessions); Interlocked.Increment(ref _active); }
        internal void SessionClosed() => Interlocked.Decrement(ref _active);
        internal void MessageAccepted(long bytes) { Interlocked.Increment(ref _accepted); Interlocked.Add(ref _bytes, bytes); }
        internal void RecipientRefused() => Interlocked.Increment(ref _refused);
        internal void SessionDenied() => Interlocked.Increment(ref _denied);
    }
}
