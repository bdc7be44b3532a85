namespace SmtpdModule.Engine.Verification
{
    /// <summary>How a callahead (and the downstream limits probe) protects its connection. The
    /// same four choices as the forwarder's TLS mode, so the cmdlets map one onto the other; a
    /// type of its own because Verification sits below Forwarding.</summary>
    public enum CallaheadTlsMode
    {
        /// <summary>Plain text; STARTTLS is never sent.</summary>
        None,

        /// <summary>STARTTLS is required (RFC 3207): without it the probe is Unavailable.</summary>
        StartTls,

        /// <summary>STARTTLS when the server offers it, plain text otherwise.</summary>
        StartTlsWhenAvailable,

        /// <summary>TLS from the first byte (RFC 8314).</summary>
        Implicit,
    }
}
