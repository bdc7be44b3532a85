using System;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// How the receiver runs STARTTLS: the server certificate, the protocol versions and how long a
    /// client may take to finish the handshake.
    /// </summary>
    /// <remarks>
    /// The options do not own <see cref="Certificate"/>: whoever loaded it (normally through
    /// <see cref="ServerCertificate"/>) disposes it when the listener has stopped. On Windows that
    /// also removes the temporary key file the import created.
    /// </remarks>
    public sealed class TlsOptions
    {
        /// <summary>The longest <see cref="HandshakeTimeout"/> accepted.</summary>
        public static readonly TimeSpan MaxHandshakeTimeout = TimeSpan.FromMinutes(10);

#pragma warning disable CS0618 // Ssl2/Ssl3 are obsolete on .NET 5+; they are named here only to be refused.
        const SslProtocols Broken = SslProtocols.Ssl2 | SslProtocols.Ssl3;
#pragma warning restore CS0618

        SslProtocols _protocols = SslProtocols.None;
        TimeSpan _handshakeTimeout = TimeSpan.FromSeconds(30);

        /// <summary>The server certificate, with a private key. Required before a handshake.</summary>
        public X509Certificate2 Certificate { get; set; }

        /// <summary>The TLS versions offered. <see cref="SslProtocols.None"/>, the default, lets the
        /// operating system choose, which on current systems means TLS 1.2 and TLS 1.3; name versions
        /// only to make an exception (an old client that speaks TLS 1.0 only, say). Where Windows
        /// PowerShell's .NET Framework cannot defer to the system (it refuses None when the host
        /// targets a framework before 4.7), None means TLS 1.2.</summary>
        /// <exception cref="ArgumentException">The value includes SSL 2 or SSL 3.</exception>
        public SslProtocols Protocols
        {
            get => _protocols;
            set
            {
                if ((value & Broken) != 0)
                    throw new ArgumentException("SSL 2 and SSL 3 are broken and are not offered; use None (the system's choice) or TLS versions.", nameof(value));
                _protocols = value;
            }
        }

        /// <summary>How long the client has, from the start of the handshake, to complete it. Default
        /// 30 seconds. When it runs out the connection is closed.</summary>
        /// <exception cref="ArgumentOutOfRangeException">The value is not positive or exceeds
        /// <see cref="MaxHandshakeTimeout"/>.</exception>
        public TimeSpan HandshakeTimeout
        {
            get => _handshakeTimeout;
            set
            {
                if (value <= TimeSpan.Zero || value > MaxHandshakeTimeout)
                    throw new ArgumentOutOfRangeException(nameof(value), value, "The TLS handshake timeout must be more than zero and at most " + MaxHandshakeTimeout.TotalMinutes + " minutes.");
                _handshakeTimeout = value;
            }
        }
    }
}
