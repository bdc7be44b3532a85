using System;
using System.Collections.Concurrent;
using System.Threading;
using SmtpdModule.Engine.Diagnostics;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Engine threads post events here; the pipeline thread drains them (Write* may only be
    /// called there). Bounded: a burst beyond the bound is dropped, not buffered without end.
    /// </summary>
    /// <remarks>
    /// Cheap for the session that posts: an event the console will not show is not queued at all
    /// (<see cref="ShowOnly"/>), and the pipeline thread is woken once per drain, not once per
    /// event. A wake is a system call and, on a busy machine, a context switch; a session posts
    /// about seven events per message, and the console shows one of them.
    /// </remarks>
    internal sealed class EventQueue : IEventSink
    {
        const int Bound = 10000;
        readonly ConcurrentQueue<ProxyEvent> _queue = new ConcurrentQueue<ProxyEvent>();
        volatile Func<ProxyEvent, bool> _shown;
        int _signalled;   // 1: Posted was set and the drainer has not begun draining since

        public AutoResetEvent Posted { get; } = new AutoResetEvent(false);

        /// <summary>From now on, events <paramref name="shown"/> refuses are dropped as posted.</summary>
        public void ShowOnly(Func<ProxyEvent, bool> shown) => _shown = shown;

        public void Write(ProxyEvent e)
        {
            var shown = _shown;
            if (shown != null && !shown(e)) return;
            if (_queue.Count >= Bound) return;
            _queue.Enqueue(e);
            if (Interlocked.Exchange(ref _signalled, 1) == 0) Posted.Set();
        }

        /// <summary>Call before draining with <see cref="TryTake"/>: an event posted from here on
        /// sets <see cref="Posted"/> again, so none is left waiting for a wake that already happened.</summary>
        public void BeginDrain() => Interlocked.Exchange(ref _signalled, 0);

        public bool TryTake(out ProxyEvent e) => _queue.TryDequeue(out e);
    }
}
