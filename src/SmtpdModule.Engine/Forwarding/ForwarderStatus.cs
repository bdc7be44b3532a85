using System;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// A forwarder as another process sees it through the control channel: the same names as the
    /// live <see cref="Forwarder"/>'s properties (one table view for both; <c>Stop-SmtpFwd</c>
    /// takes it from the pipeline), a snapshot at the time of asking. The answer to a stop is
    /// sent once the forwarder has stopped, so its counters say what it delivered.
    /// </summary>
    public sealed class ForwarderStatus
    {
        ForwarderStatus() { }

        public int Id { get; private set; }
        /// <summary>The process that runs the forwarder.</summary>
        public int ProcessId { get; private set; }
        public bool IsRunning { get; private set; }
        public string Target { get; private set; }
        public string SpoolPath { get; private set; }
        /// <summary>The forwarder's log (<c>-LogPath</c>), its current file; null without a log. Binds to Get-SmtpdLog and Export-SmtpdReport.</summary>
        public string LogPath { get; private set; }
        public string Owner { get; private set; }
        public DateTimeOffset StartTime { get; private set; }
        public long Active { get; private set; }
        public long Attempts { get; private set; }
        public long Forwarded { get; private set; }
        public long Deferred { get; private set; }
        public long Failed { get; private set; }
        public long Bounced { get; private set; }
        public long RecipientsDelivered { get; private set; }
        public long Errors { get; private set; }
        /// <summary>Where its metrics endpoint listens (<c>-MetricsListen</c>); null without one.</summary>
        public System.Net.IPEndPoint MetricsEndPoint { get; private set; }
        /// <summary>The control endpoint it was read from.</summary>
        public string ControlPath { get; private set; }

        internal static ControlFields Fields(Forwarder f, int processId, bool running)
        {
            var x = new ControlFields();
            x.Add("id", f.Id);
            x.Add("pid", processId);
            x.Add("running", running ? 1 : 0);
            x.Add("target", f.Target);
            x.Add("spool", f.SpoolPath);
            x.Add("owner", f.Owner);
            x.Add("start", f.StartTime);
            x.Add("active", f.Active);
            x.Add("attempts", f.Attempts);
            x.Add("forwarded", f.Forwarded);
            x.Add("deferred", f.Deferred);
            x.Add("failed", f.Failed);
            x.Add("bounced", f.Bounced);
            x.Add("delivered", f.Counters.RecipientsDelivered);
            x.Add("errors", f.Counters.Errors);
            x.Add("metrics", f.MetricsEndPoint?.ToString());
            x.Add("log", f.LogPath);
            return x;
        }

        /// <summary>The status from a control answer.</summary>
        public static ForwarderStatus FromFields(ControlFields f, string controlPath)
        {
            if (f == null) throw new ArgumentNullException(nameof(f));
            return new ForwarderStatus
            {
                Id = (int)f.Number("id"),
                ProcessId = (int)f.Number("pid"),
                IsRunning = f.Number("running") != 0,
                Target = f.Text("target"),
                SpoolPath = f.Text("spool"),
                LogPath = string.IsNullOrEmpty(f.Text("log")) ? null : f.Text("log"),
                Owner = f.Text("owner"),
                StartTime = f.Time("start"),
                Active = f.Number("active"),
                Attempts = f.Number("attempts"),
                Forwarded = f.Number("forwarded"),
                Deferred = f.Number("deferred"),
                Failed = f.Number("failed"),
                Bounced = f.Number("bounced"),
                RecipientsDelivered = f.Number("delivered"),
                Errors = f.Number("errors"),
                MetricsEndPoint = Net.IPText.TryParseEndPoint(f.Text("metrics"), -1, allowPortZero: false, allowUnspecified: true, out var metrics, out _) ? metrics : null,
                ControlPath = controlPath,
            };
        }
    }
}
