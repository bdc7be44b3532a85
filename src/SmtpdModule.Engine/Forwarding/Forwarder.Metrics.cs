using System;
using System.Net;
using SmtpdModule.Engine.Diagnostics;

namespace SmtpdModule.Engine.Forwarding
{
    // The metrics endpoint the forwarder closes when it stops (see AttachedEndpoint).
    public sealed partial class Forwarder
    {
        readonly AttachedEndpoint _metrics = new AttachedEndpoint();

        /// <summary>Where the metrics endpoint listens (the port chosen when 0 was asked for); null without one.</summary>
        public IPEndPoint MetricsEndPoint => _metrics.EndPoint;

        /// <summary>Hands the forwarder its metrics endpoint, which it closes when it stops (at once if it has).</summary>
        internal void AttachMetrics(IPEndPoint bound, IDisposable endpoint) => _metrics.Attach(bound, endpoint, !IsRunning);

        void CloseMetrics() => _metrics.Close();
    }
}
