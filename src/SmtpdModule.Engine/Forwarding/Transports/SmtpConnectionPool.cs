using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// The connections of one <see cref="SmtpTransport"/>: at most a fixed number in use at once
    /// (a slot is held for the whole delivery, connected or not), and the idle ones kept for the
    /// next message. Only a connection whose last transaction ended in a known state (every reply
    /// read, RSET accepted after a refusal) comes back; anything else is closed.
    /// </summary>
    internal sealed class SmtpConnectionPool : IDisposable
    {
        readonly SemaphoreSlim _slots;
        readonly Stack<RecordingSmtpClient> _idle = new Stack<RecordingSmtpClient>();
        readonly object _lock = new object();
        bool _disposed;

        public SmtpConnectionPool(int maxConnections)
        {
            _slots = new SemaphoreSlim(maxConnections, maxConnections);
        }

        public int IdleCount
        {
            get { lock (_lock) return _idle.Count; }
        }

        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task WaitSlotAsync(CancellationToken cancellationToken) => _slots.WaitAsync(cancellationToken);

        public void ReleaseSlot() => _slots.Release();

        /// <summary>The most recently used idle connection (so that a quiet period lets the others
        /// age out), or null.</summary>
        public RecordingSmtpClient TakeIdle()
        {
            lock (_lock)
                return _idle.Count > 0 ? _idle.Pop() : null;
        }

        public void Return(RecordingSmtpClient client)
        {
            client.Attempt = null;
            client.IdleSince = Stopwatch.GetTimestamp();
            lock (_lock)
            {
                if (!_disposed)
                {
                    _idle.Push(client);
                    return;
                }
            }
            Quit(client);
        }

        /// <summary>Closes a connection in an unknown state: no QUIT, since the server may still be
        /// waiting for data or have gone.</summary>
        public static void Discard(RecordingSmtpClient client)
        {
            try { client.Dispose(); }
            catch (Exception) { /* closing a broken socket; nothing to report */ }
        }

        /// <summary>Says QUIT (RFC 5321 §4.1.1.10) within a short time, then closes.</summary>
        static void Quit(RecordingSmtpClient client)
        {
            try
            {
                client.Timeout = 2000;
                if (client.IsConnected) client.Disconnect(true);
            }
            catch (Exception) { /* the server went first */ }
            Discard(client);
        }

        public void Dispose()
        {
            RecordingSmtpClient[] idle;
            lock (_lock)
            {
                if (_disposed) return;
                _disposed = true;
                idle = _idle.ToArray();
                _idle.Clear();
            }
            foreach (var client in idle) Quit(client);
        }
    }
}
