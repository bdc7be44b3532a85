using System;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// What one session may cost. Every limit is enforced before input is buffered, so memory per
    /// session is bounded whatever a client sends.
    /// </summary>
    public sealed class SessionLimits
    {
        /// <summary>Largest message body accepted, in bytes (advertised as SIZE). Default 25 MiB.</summary>
        public long MaxMessageSize { get; set; } = PolicyOptions.DefaultMaxMessageSize;
        /// <summary>Recipients per message; RFC 5321 §4.5.3.1.8 asks for at least 100.</summary>
        public int MaxRecipients { get; set; } = 100;
        /// <summary>Longest command line, CRLF included (RFC 5321 says 512; extensions need more).</summary>
        public int MaxCommandLine { get; set; } = 2048;
        /// <summary>Longest line of message text, CRLF included. RFC 5321 allows 1000; real mail is often longer.</summary>
        public int MaxTextLine { get; set; } = 64 * 1024;
        /// <summary>How long one read may wait (RFC 5321 §4.5.3.2 suggests at least 5 minutes).</summary>
        public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(300);
        /// <summary>When this share of the proxy's session limit is in use, the proxy is under
        /// stress and every session's reads (and each whole command line) wait at most
        /// <see cref="StressTimeout"/>. Default 0.8.</summary>
        public double StressThreshold { get; set; } = 0.8;
        /// <summary>The read timeout under stress. Default 10 s.</summary>
        public TimeSpan StressTimeout { get; set; } = TimeSpan.FromSeconds(10);
        /// <summary>Syntax and sequence errors before the session is closed with 421.</summary>
        public int MaxErrors { get; set; } = 20;

        internal void Validate()
        {
            if (MaxMessageSize < 1) throw new ArgumentOutOfRangeException(nameof(MaxMessageSize), "must be positive");
            if (MaxRecipients < 1) throw new ArgumentOutOfRangeException(nameof(MaxRecipients), "must be positive");
            if (MaxCommandLine < 512) throw new ArgumentOutOfRangeException(nameof(MaxCommandLine), "must be at least 512 (RFC 5321)");
            if (MaxTextLine < 1000) throw new ArgumentOutOfRangeException(nameof(MaxTextLine), "must be at least 1000 (RFC 5321)");
            if (ReadTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ReadTimeout), "must be positive");
            if (StressThreshold <= 0 || StressThreshold > 1) throw new ArgumentOutOfRangeException(nameof(StressThreshold), "must be above 0 and at most 1");
            if (StressTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(StressTimeout), "must be positive");
            if (MaxErrors < 1) throw new ArgumentOutOfRangeException(nameof(MaxErrors), "must be positive");
        }
    }
}
