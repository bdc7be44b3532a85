using System.Collections.Concurrent;
using System.Threading;
using SmtpdModule.Engine.Diagnostics;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Engine threads post events here; the pipeline thread drains them (Write* may only be
    /// called there). Bounded: a burst beyond the bound is dropped, not buffered without end.
    /// </summary>
    internal sealed class EventQueue : IEventSink
    {
        const int Bound = 10000;
        readonly ConcurrentQueue<ProxyEvent> _queue = new ConcurrentQueue<ProxyEvent>();

        public AutoResetEvent Posted { get; } = new AutoResetEvent(false);

        public void Write(ProxyEvent e)
        {
            if (_queue.Count >= Bound) return;
            _queue.Enqueue(e);
            Posted.Set();
        }

        public bool TryTake(out ProxyEvent e) => _queue.TryDequeue(out e);
    }
}
