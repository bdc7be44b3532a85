using System;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>How a <see cref="Forwarder"/> runs.</summary>
    public sealed class ForwarderOptions
    {
        /// <summary>The spool root (the proxy's <c>-SpoolPath</c>).</summary>
        public string SpoolPath { get; set; }

        /// <summary>Where mail goes. The forwarder disposes it when it stops.</summary>
        public IMessageTransport Transport { get; set; }

        /// <summary>Messages delivered at once (the original's <c>-M</c>, default 10 there).</summary>
        public int MaxConcurrency { get; set; } = 4;

        /// <summary>How often the spool is scanned when no change is noticed (the original's <c>-P</c>).</summary>
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

        public RetrySchedule Retry { get; set; } = new RetrySchedule();

        /// <summary>Keep permanently failed messages in <c>failed/</c> instead of bouncing them.</summary>
        public bool NoBounce { get; set; }

        /// <summary>This host's name for the DSN's <c>Reporting-MTA</c> and <c>MAILER-DAEMON@</c>.</summary>
        public string HostName { get; set; }

        /// <summary>A file to append every event to, one JSON object per line; null for none.</summary>
        public string LogPath { get; set; }
        /// <summary>When the log at <see cref="LogPath"/> rotates and how many old files are kept.</summary>
        public Diagnostics.LogRotationOptions LogRotation { get; set; } = new Diagnostics.LogRotationOptions();
        /// <summary>Serve a control endpoint in the spool's <c>control/</c> folder, through which
        /// another process on this machine can see and stop the forwarder (see <see cref="Control.ControlEndpoint"/>).</summary>
        public bool ControlChannel { get; set; } = true;

        /// <summary>How often claims of dead forwarders are looked for.</summary>
        public TimeSpan RecoveryInterval { get; set; } = TimeSpan.FromMinutes(1);

        /// <exception cref="ArgumentException">A value is missing or out of range.</exception>
        internal void Validate()
        {
            if (string.IsNullOrEmpty(SpoolPath)) throw new ArgumentException("A spool path is required.", nameof(SpoolPath));
            if (Transport == null) throw new ArgumentException("A transport is required.", nameof(Transport));
            if (MaxConcurrency < 1 || MaxConcurrency > 1000) throw new ArgumentException("MaxConcurrency must be 1 to 1000.", nameof(MaxConcurrency));
            if (PollInterval <= TimeSpan.Zero) throw new ArgumentException("PollInterval must be positive.", nameof(PollInterval));
            if (Retry == null) throw new ArgumentException("A retry schedule is required.", nameof(Retry));
            if (LogRotation == null) throw new ArgumentException("Log rotation options are required.", nameof(LogRotation));
            LogRotation.Validate();
        }
    }
}
