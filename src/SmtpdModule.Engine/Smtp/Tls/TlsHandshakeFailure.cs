namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>How a STARTTLS handshake failed (<see cref="TlsHandshakeException.Reason"/>).</summary>
    public enum TlsHandshakeFailure
    {
        /// <summary>The client did not finish the handshake within <see cref="TlsOptions.HandshakeTimeout"/>;
        /// the connection was closed.</summary>
        Timeout = 1,
        /// <summary>The connection failed underneath the handshake: reset by the client, or closed by
        /// this side while the handshake ran.</summary>
        ConnectionLost = 2,
        /// <summary>The handshake itself failed: bytes that are not TLS, no protocol version or cipher
        /// in common, an alert from the client (it refused the certificate, say), or the client's
        /// end of stream in the middle of the handshake. Which one is in the message; the runtimes
        /// report them with exception types that do not tell them apart reliably.</summary>
        Protocol = 3,
    }
}
