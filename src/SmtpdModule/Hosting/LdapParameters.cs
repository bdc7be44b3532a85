using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    /// <summary>The -Ldap* parameters as Start-SmtpdProxy and Test-SmtpdRule bound them, handed to
    /// <see cref="SmtpdCmdlet"/> in one piece. Plain values only: no engine type, so listing the
    /// cmdlets' types loads neither the engine nor the LDAP assembly.</summary>
    internal struct LdapParameters
    {
        public string Server;
        public string SearchBase;
        public string Filter;
        public PSCredential Credential;
        public bool StartTls;

        /// <summary>The first -Ldap* parameter given besides -LdapServer, for the error when -LdapServer is missing.</summary>
        public string FirstGiven =>
            SearchBase != null ? "LdapSearchBase" : Filter != null ? "LdapFilter" : Credential != null ? "LdapCredential" : StartTls ? "LdapStartTls" : null;
    }
}
