using System;
using System.Net;
using System.Threading;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// An endpoint a proxy or a forwarder serves beside its work (the metrics exporter's) and closes
    /// when it stops. The exporter sits above both in the engine's layers, so they hold it only as
    /// something to dispose, and where it listens.
    /// </summary>
    internal sealed class AttachedEndpoint
    {
        IDisposable _endpoint;

        /// <summary>Where it listens (the port chosen when 0 was asked for); null before one is attached.
        /// Kept after <see cref="Close"/>: it says where the endpoint was.</summary>
        public IPEndPoint EndPoint { get; private set; }

        /// <summary>Takes <paramref name="endpoint"/>, closing one attached before; closes it at once when
        /// its owner has already <paramref name="stopped"/> (a stop that ran before the attach).</summary>
        public void Attach(IPEndPoint bound, IDisposable endpoint, bool stopped)
        {
            EndPoint = bound;
            Interlocked.Exchange(ref _endpoint, endpoint)?.Dispose();
            if (stopped) Close();
        }

        public void Close() => Interlocked.Exchange(ref _endpoint, null)?.Dispose();
    }
}
