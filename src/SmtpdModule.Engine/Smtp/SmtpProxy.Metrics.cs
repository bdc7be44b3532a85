using System;
using System.Net;
using System.Threading;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Smtp
{
    // What a metrics exporter reads, and the endpoint the proxy closes when it stops. The exporter
    // sits above the proxy in the engine's layers, so the proxy holds it only as something to dispose.
    public sealed partial class SmtpProxy
    {
        IDisposable _metrics;

        /// <summary>The check results of every session (SPF, grey lines, recipient verification), since start.</summary>
        public CheckResultCounter CheckResults => _rt.Checks;

        /// <summary>The spool writer's counts (commits, directory fsyncs), since start.</summary>
        public SpoolCounters SpoolCounters => _rt.Spool.Counters;

        /// <summary>Where the metrics endpoint listens (the port chosen when 0 was asked for); null without one.</summary>
        public IPEndPoint MetricsEndPoint { get; private set; }

        /// <summary>Hands the proxy its metrics endpoint, which it closes when it stops (at once if it has).</summary>
        internal void AttachMetrics(IPEndPoint bound, IDisposable endpoint)
        {
            MetricsEndPoint = bound;
            Interlocked.Exchange(ref _metrics, endpoint)?.Dispose();
            if (_rt.IsStopping) CloseMetrics();
        }

        void CloseMetrics() => Interlocked.Exchange(ref _metrics, null)?.Dispose();
    }
}
