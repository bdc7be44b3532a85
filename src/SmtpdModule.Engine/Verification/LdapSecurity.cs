namespace SmtpdModule.Engine.Verification
{
    /// <summary>How <see cref="LdapSource"/> protects its connection to the directory.</summary>
    public enum LdapSecurity
    {
        /// <summary>Plain LDAP (port 389): the bind password and the addresses asked cross the network in clear.</summary>
        None,

        /// <summary>LDAP on port 389, then the StartTLS extended operation (RFC 4513 §3) before the bind;
        /// a directory that refuses it or a certificate that is not trusted makes every check Unavailable.</summary>
        StartTls,

        /// <summary>TLS from the first byte (ldaps://, port 636).</summary>
        Ldaps,
    }
}
