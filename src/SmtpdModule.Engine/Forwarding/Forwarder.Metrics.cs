using System;
using System.Net;
using System.Threading;

namespace SmtpdModule.Engine.Forwarding
{
    // The endpoint the forwarder closes when it stops. The exporter sits above the forwarder in the
    // engine's layers, so the forwarder holds it only as something to dispose.
    public sealed partial class Forwarder
    {
        IDisposable _metrics;

        /// <summary>Where the metrics endpoint listens (the port chosen when 0 was asked for); null without one.</summary>
        public IPEndPoint MetricsEndPoint { get; private set; }

        /// <summary>Hands the forwarder its metrics endpoint, which it closes when it stops (at once if it has).</summary>
        internal void AttachMetrics(IPEndPoint bound, IDisposable endpoint)
        {
            MetricsEndPoint = bound;
            Interlocked.Exchange(ref _metrics, endpoint)?.Dispose();
            if (!IsRunning) CloseMetrics();
        }

        void CloseMetrics() => Interlocked.Exchange(ref _metrics, null)?.Dispose();
    }
}
