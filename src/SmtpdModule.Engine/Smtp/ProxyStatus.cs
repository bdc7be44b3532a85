using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// A proxy as another process sees it through the control channel: the same names as the
    /// live <see cref="SmtpProxy"/>'s properties (so the same table view shows both, and
    /// <c>Stop-SmtpdProxy</c> takes it from the pipeline), a snapshot at the time of asking.
    /// </summary>
    public sealed class ProxyStatus
    {
        ProxyStatus() { }

        public int Id { get; private set; }
        /// <summary>The process that runs the proxy.</summary>
        public int ProcessId { get; private set; }
        public bool IsRunning { get; private set; }
        public IReadOnlyList<IPEndPoint> LocalEndPoints { get; private set; }
        public string HostName { get; private set; }
        public DateTimeOffset StartTime { get; private set; }
        public long Sessions { get; private set; }
        public long Active { get; private set; }
        public long Accepted { get; private set; }
        public long Refused { get; private set; }
        public long Denied { get; private set; }
        public long Bytes { get; private set; }
        public string RulesPath { get; private set; }
        public string SpoolPath { get; private set; }
        public string LogPath { get; private set; }
        /// <summary>The health of every DNSBL zone the rules name (zone, status, detail; the test points' answers stay in the proxy).</summary>
        public IReadOnlyList<Lookup.DnsblProbeResult> DnsblZones { get; private set; }
        /// <summary>Where its metrics endpoint listens (<c>-MetricsListen</c>); null without one.</summary>
        public IPEndPoint MetricsEndPoint { get; private set; }
        /// <summary>The control endpoint it was read from.</summary>
        public string ControlPath { get; private set; }

        internal static ControlFields Fields(SmtpProxy proxy, int processId, bool running)
        {
            var f = new ControlFields();
            f.Add("id", proxy.Id);
            f.Add("pid", processId);
            f.Add("running", running ? 1 : 0);
            f.Add("listen", string.Join(" ", proxy.LocalEndPoints.Select(e => e.ToString())));
            f.Add("host", proxy.Options.HostName);
            f.Add("start", proxy.StartTime);
            f.Add("sessions", proxy.Sessions);
            f.Add("active", proxy.Active);
            f.Add("accepted", proxy.Accepted);
            f.Add("refused", proxy.Refused);
            f.Add("denied", proxy.Denied);
            f.Add("bytes", proxy.Bytes);
            f.Add("rules", proxy.RulesPath);
            f.Add("spool", proxy.SpoolPath);
            f.Add("log", proxy.Options.LogPath);
            f.Add("metrics", proxy.MetricsEndPoint?.ToString());
            f.Add("dnsbl", string.Join("\n", proxy.DnsblZones.Select(z => z.Zone + "\t" + z.Status + "\t" + z.Detail)));
            return f;
        }

        /// <summary>The status from a control answer.</summary>
        public static ProxyStatus FromFields(ControlFields f, string controlPath)
        {
            if (f == null) throw new ArgumentNullException(nameof(f));
            var endPoints = new List<IPEndPoint>();
            foreach (var text in (f.Text("listen") ?? "").Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries))
                if (Net.IPText.TryParseEndPoint(text, 25, allowPortZero: true, allowUnspecified: true, out var ep, out _)) endPoints.Add(ep);
            return new ProxyStatus
            {
                Id = (int)f.Number("id"),
                ProcessId = (int)f.Number("pid"),
                IsRunning = f.Number("running") != 0,
                LocalEndPoints = endPoints,
                HostName = f.Text("host"),
                StartTime = f.Time("start"),
                Sessions = f.Number("sessions"),
                Active = f.Number("active"),
                Accepted = f.Number("accepted"),
                Refused = f.Number("refused"),
                Denied = f.Number("denied"),
                Bytes = f.Number("bytes"),
                RulesPath = f.Text("rules"),
                SpoolPath = f.Text("spool"),
                LogPath = string.IsNullOrEmpty(f.Text("log")) ? null : f.Text("log"),
                DnsblZones = (f.Text("dnsbl") ?? "").Split(new[] { '\n' }, StringSplitOptions.RemoveEmptyEntries)
                    .Select(Lookup.DnsblProbeResult.FromStatusLine).Where(z => z != null).ToArray(),
                MetricsEndPoint = Net.IPText.TryParseEndPoint(f.Text("metrics"), -1, allowPortZero: false, allowUnspecified: true, out var metrics, out _) ? metrics : null,
                ControlPath = controlPath,
            };
        }
    }
}
