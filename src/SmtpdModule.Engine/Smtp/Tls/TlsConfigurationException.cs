using System;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// A server certificate could not be used for STARTTLS. Carries why (<see cref="Reason"/>) and
    /// where: the file (<see cref="Path"/>) or the certificate-store thumbprint
    /// (<see cref="Thumbprint"/>). The message names both and never holds a stack trace; the
    /// runtime's own exception, when there was one, is the inner exception.
    /// </summary>
    public sealed class TlsConfigurationException : Exception
    {
        public TlsConfigurationException(TlsConfigurationReason reason, string message, string path = null,
            string thumbprint = null, Exception inner = null)
            : base(message, inner)
        {
            Reason = reason;
            Path = path;
            Thumbprint = thumbprint;
        }

        /// <summary>What is wrong with the certificate or its source.</summary>
        public TlsConfigurationReason Reason { get; }

        /// <summary>The file at fault (the PFX, the PEM certificate or the PEM key); null for a store certificate.</summary>
        public string Path { get; }

        /// <summary>The thumbprint looked up in the certificate stores, as given; null for a file.</summary>
        public string Thumbprint { get; }
    }
}
