using System;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// A STARTTLS handshake did not complete; the connection is closed. An everyday event for a
    /// public server (scanners, clients with old TLS stacks), so the message is one line fit for the
    /// session log and never holds a stack trace; the runtime's exception, if any, is the inner one.
    /// </summary>
    public sealed class TlsHandshakeException : Exception
    {
        public TlsHandshakeException(TlsHandshakeFailure reason, string message, Exception inner = null)
            : base(message, inner)
        {
            Reason = reason;
        }

        /// <summary>Why the handshake failed.</summary>
        public TlsHandshakeFailure Reason { get; }
    }
}
