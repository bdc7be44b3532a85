using System;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>The bounds a <see cref="MetricsEndpoint"/> holds every client to.</summary>
    public sealed class MetricsEndpointOptions
    {
        /// <summary>How long a client has to send its whole request head; then the connection is dropped.</summary>
        public TimeSpan ReadTimeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>The largest request head read (request line and header fields); a longer one gets 431.</summary>
        public int MaxRequestHead { get; set; } = 8192;

        /// <summary>Connections served at once; more are closed at once, so slow clients cannot pile up.</summary>
        public int MaxConcurrentScrapes { get; set; } = 4;

        /// <exception cref="ArgumentException">A value is out of range.</exception>
        internal void Validate()
        {
            if (ReadTimeout <= TimeSpan.Zero) throw new ArgumentException("ReadTimeout must be positive.", nameof(ReadTimeout));
            if (MaxRequestHead < 64) throw new ArgumentException("MaxRequestHead must be at least 64 bytes.", nameof(MaxRequestHead));
            if (MaxConcurrentScrapes < 1) throw new ArgumentException("MaxConcurrentScrapes must be at least 1.", nameof(MaxConcurrentScrapes));
        }
    }
}
