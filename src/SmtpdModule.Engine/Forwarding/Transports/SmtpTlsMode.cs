namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>How <see cref="SmtpTransport"/> protects its connection to the next hop.</summary>
    public enum SmtpTlsMode
    {
        /// <summary>Plain text; STARTTLS is never sent, even when offered.</summary>
        None,

        /// <summary>STARTTLS is required (RFC 3207): a server that does not offer it, or a handshake
        /// that fails, defers the message.</summary>
        StartTls,

        /// <summary>STARTTLS when the server offers it, plain text otherwise. A handshake that fails
        /// (a certificate that does not validate) still defers: the server asked for TLS.</summary>
        StartTlsWhenAvailable,

        /// <summary>TLS from the first byte (RFC 8314 submissions port 465).</summary>
        Implicit,
    }
}
