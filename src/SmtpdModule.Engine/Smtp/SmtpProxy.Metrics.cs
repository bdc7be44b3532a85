using System;
using System.Net;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Smtp
{
    // What a metrics exporter reads, and the endpoint the proxy closes when it stops (see AttachedEndpoint).
    public sealed partial class SmtpProxy
    {
        readonly AttachedEndpoint _metrics = new AttachedEndpoint();

        /// <summary>The check results of every session (SPF, grey lines, recipient verification), since start.</summary>
        public CheckResultCounter CheckResults => _rt.Checks;

        /// <summary>The spool writer's counts (commits, directory fsyncs), since start.</summary>
        public SpoolCounters SpoolCounters => _rt.Spool.Counters;

        /// <summary>Where the metrics endpoint listens (the port chosen when 0 was asked for); null without one.</summary>
        public IPEndPoint MetricsEndPoint => _metrics.EndPoint;

        /// <summary>Hands the proxy its metrics endpoint, which it closes when it stops (at once if it has).</summary>
        internal void AttachMetrics(IPEndPoint bound, IDisposable endpoint) => _metrics.Attach(bound, endpoint, _rt.IsStopping);

        void CloseMetrics() => _metrics.Close();
    }
}
