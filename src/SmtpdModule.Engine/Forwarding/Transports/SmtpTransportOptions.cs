using System;
using System.Net;
using System.Net.Security;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>Where and how <see cref="SmtpTransport"/> connects. Read once, when the transport
    /// is made; later changes have no effect on it.</summary>
    public sealed class SmtpTransportOptions
    {
        /// <summary>The next hop's host name or address (required).</summary>
        public string Host { get; set; }

        /// <summary>The port; 0 (the default) means 25, or 465 with <see cref="SmtpTlsMode.Implicit"/>.</summary>
        public int Port { get; set; }

        public SmtpTlsMode TlsMode { get; set; } = SmtpTlsMode.None;

        /// <summary>Credentials for AUTH; null (the default) sends no AUTH.</summary>
        public NetworkCredential Credential { get; set; }

        /// <summary>Allow <see cref="Credential"/> over a connection without TLS. Off by default:
        /// then a connection that is not encrypted defers the message rather than show the password.</summary>
        public bool AllowPlainTextAuthentication { get; set; }

        /// <summary>The most connections open at once; also the most messages in transit at once.</summary>
        public int MaxConnections { get; set; } = 4;

        /// <summary>The EHLO name; null lets MailKit choose (the local host name).</summary>
        public string LocalDomain { get; set; }

        /// <summary>Limit for the connection, the greeting, EHLO, TLS and AUTH together.</summary>
        public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Limit for each read or write afterwards, and for each whole reply from the
        /// end of the command it answers (a reply still arriving after it breaks the connection;
        /// see <see cref="ReplyGuard"/>). The default is RFC 5321 §4.5.3.2's longest wait, the
        /// reply to the final dot (10 minutes).</summary>
        public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(10);

        /// <summary>A pooled connection unused for longer than this is checked with NOOP before it
        /// carries a message (servers close idle sessions; RFC 5321 §4.5.3.2 allows 5 minutes).</summary>
        public TimeSpan IdleCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

        /// <summary>Decides whether to trust the server's certificate; null uses the system's
        /// validation (chain to a trusted root, name matching <see cref="Host"/>).</summary>
        public RemoteCertificateValidationCallback ServerCertificateValidationCallback { get; set; }

        /// <summary>Check the server certificate's revocation status (on by default).</summary>
        public bool CheckCertificateRevocation { get; set; } = true;

        internal SmtpTransportOptions Snapshot()
        {
            var copy = (SmtpTransportOptions)MemberwiseClone();
            if (copy.Port == 0) copy.Port = TlsMode == SmtpTlsMode.Implicit ? 465 : 25;
            return copy;
        }
    }
}
