using System;
using System.Net.Security;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Where and how <see cref="CallaheadSource"/> asks the real mail server, how hard it may ask,
    /// and how long its answers may be cached. <see cref="DownstreamLimitsProbe"/> reads the
    /// connection settings (host to timeout) from the same object. Read once, when the source or
    /// probe is made.
    /// </summary>
    public sealed class CallaheadOptions
    {
        /// <summary>The downstream's host name or address (required): the forwarder's smart host.</summary>
        public string Host { get; set; }

        /// <summary>The port; 0 (the default) means 25, or 465 with <see cref="CallaheadTlsMode.Implicit"/>.</summary>
        public int Port { get; set; }

        public CallaheadTlsMode TlsMode { get; set; } = CallaheadTlsMode.None;

        /// <summary>The EHLO name; null lets MailKit choose (the local host name).</summary>
        public string HeloName { get; set; }

        /// <summary>The MAIL FROM of a probe, without angle brackets. "" (the default) is the null
        /// sender <c>&lt;&gt;</c>, as Postfix's address verification uses: no reply can go back to
        /// anyone. Some servers refuse it; then name a real address of the proxy's own domain.</summary>
        public string ProbeSender { get; set; } = "";

        /// <summary>The most probes open at once to this downstream; more wait their turn.</summary>
        public int MaxConcurrentProbes { get; set; } = 4;

        /// <summary>The most new probe connections per second (a token bucket holding one
        /// second's worth, so a burst of this many is allowed).</summary>
        public double ProbesPerSecond { get; set; } = 10;

        /// <summary>How long a probe may wait for its turn (a concurrency slot and a rate token)
        /// before it gives up as Unavailable ("probe limit"): probes are never queued without bound.</summary>
        public TimeSpan MaxWait { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>Limit for one probe from connect to the answer: the connection, greeting,
        /// EHLO, TLS, MAIL FROM and RCPT TO together (each read is bounded by it as well).</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

        /// <summary>How long the caller may cache a Known answer. The source caches nothing
        /// itself; the pipeline reads this. Postfix keeps positives for 31 days; a week is the default.</summary>
        public TimeSpan PositiveTtl { get; set; } = TimeSpan.FromDays(7);

        /// <summary>How long the caller may cache an Unknown answer (Postfix re-checks after 3
        /// hours). Unavailable is never cached.</summary>
        public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromHours(3);

        /// <summary>Decides whether to trust the server's certificate; null uses the system's validation.</summary>
        public RemoteCertificateValidationCallback ServerCertificateValidationCallback { get; set; }

        /// <summary>Check the server certificate's revocation status (on by default).</summary>
        public bool CheckCertificateRevocation { get; set; } = true;

        /// <summary>"host:port", as the answers' details and the log name the downstream.</summary>
        public string Target => Host + ":" + EffectivePort;

        internal int EffectivePort => Port != 0 ? Port : TlsMode == CallaheadTlsMode.Implicit ? 465 : 25;

        /// <summary>A checked copy: later changes to this object do not reach the copy.</summary>
        /// <exception cref="ArgumentException">No host, a port outside 0–65535, a limit below one,
        /// a timeout or TTL that is not positive, or a probe sender with spaces, brackets or
        /// control characters.</exception>
        internal CallaheadOptions Snapshot()
        {
            if (string.IsNullOrWhiteSpace(Host)) throw new ArgumentException("Host is required.");
            if (Port < 0 || Port > 65535) throw new ArgumentException("Port must be between 0 and 65535.");
            if (MaxConcurrentProbes < 1) throw new ArgumentException("MaxConcurrentProbes must be at least 1.");
            if (!(ProbesPerSecond > 0)) throw new ArgumentException("ProbesPerSecond must be positive.");
            if (MaxWait < TimeSpan.Zero) throw new ArgumentException("MaxWait must not be negative.");
            if (Timeout <= TimeSpan.Zero) throw new ArgumentException("Timeout must be positive.");
            if (PositiveTtl <= TimeSpan.Zero || NegativeTtl <= TimeSpan.Zero) throw new ArgumentException("TTLs must be positive.");
            var sender = ProbeSender ?? "";
            foreach (var c in sender)
                if (c <= ' ' || c == 0x7F || c == '<' || c == '>')
                    throw new ArgumentException("ProbeSender must be a bare address (no spaces, brackets or control characters).");
            var copy = (CallaheadOptions)MemberwiseClone();
            copy.ProbeSender = sender;
            return copy;
        }
    }
}
