using System;
using System.Net;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Which directory <see cref="LdapSource"/> asks, how, and how long its answers may be cached.
    /// Read once, when the source is made.
    /// </summary>
    public sealed class LdapSourceOptions
    {
        /// <summary>The directory's host name or address (required). With TLS, the name the server's
        /// certificate holds: the certificate is checked against it.</summary>
        public string Server { get; set; }

        /// <summary>The port; 0 (the default) means 389, or 636 with <see cref="LdapSecurity.Ldaps"/>.
        /// An Active Directory Global Catalog answers for every domain of the forest on 3268 (3269 with TLS).</summary>
        public int Port { get; set; }

        public LdapSecurity Security { get; set; } = LdapSecurity.None;

        /// <summary>Where the search starts (the whole subtree is searched), e.g. <c>dc=example,dc=org</c>; required.</summary>
        public string SearchBase { get; set; }

        /// <summary>The filter, with <c>{0}</c> where the address goes (escaped, see
        /// <see cref="LdapFilter.Escape"/>); Active Directory's <see cref="LdapFilter.ActiveDirectory"/> by default.</summary>
        public string Filter { get; set; } = LdapFilter.ActiveDirectory;

        /// <summary>The account to bind as (simple bind: the user name is a DN, or for Active Directory
        /// also <c>user@domain</c>); null binds anonymously. The password crosses the network as it
        /// is, so use <see cref="LdapSecurity.StartTls"/> or <see cref="LdapSecurity.Ldaps"/> with it.</summary>
        public NetworkCredential Credential { get; set; }

        /// <summary>Limit for one check: waiting for a connection, connecting, TLS, the bind and the search together.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

        /// <summary>The most checks (and connections) at once; more wait their turn, within <see cref="Timeout"/>.</summary>
        public int MaxConcurrency { get; set; } = 4;

        /// <summary>How long the caller may cache a Known answer: a day. A search costs a directory
        /// little, so the cache is less about load than about mail from known users flowing
        /// through a directory outage; its price is that a removed address is still accepted for up
        /// to a day (the mail server behind then refuses it and the sender gets a bounce).</summary>
        public TimeSpan PositiveTtl { get; set; } = TimeSpan.FromDays(1);

        /// <summary>How long the caller may cache an Unknown answer: 15 minutes, short, so a mailbox
        /// just created receives mail soon (mail refused meanwhile is refused with 550 at RCPT, and
        /// the sender knows). Unavailable is never cached.</summary>
        public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromMinutes(15);

        /// <summary>The port used: <see cref="Port"/>, or the default of <see cref="Security"/>.</summary>
        public int EffectivePort => Port != 0 ? Port : Security == LdapSecurity.Ldaps ? 636 : 389;

        /// <summary>"ldap://host:port", "ldaps://host:port" or "ldap://host:port (StartTLS)", as answers and the log name the directory.</summary>
        public string Target =>
            (Security == LdapSecurity.Ldaps ? "ldaps://" : "ldap://") + (Server != null && Server.IndexOf(':') >= 0 ? "[" + Server + "]" : Server)
            + ":" + EffectivePort + (Security == LdapSecurity.StartTls ? " (StartTLS)" : "");

        /// <summary>A checked copy: later changes to this object (the credential included) do not reach it.</summary>
        /// <exception cref="ArgumentException">No server or search base, a port outside 0–65535, a
        /// filter that <see cref="LdapFilter.TryValidateTemplate"/> refuses, a timeout or TTL that is
        /// not positive, or a concurrency below one.</exception>
        internal LdapSourceOptions Snapshot()
        {
            if (string.IsNullOrWhiteSpace(Server)) throw new ArgumentException("Server is required.");
            if (Port < 0 || Port > 65535) throw new ArgumentException("Port must be between 0 and 65535.");
            if (string.IsNullOrWhiteSpace(SearchBase)) throw new ArgumentException("SearchBase is required.");
            if (!LdapFilter.TryValidateTemplate(Filter, out var why)) throw new ArgumentException("Filter '" + Filter + "' cannot be used: " + why + ".");
            if (Timeout <= TimeSpan.Zero) throw new ArgumentException("Timeout must be positive.");
            if (MaxConcurrency < 1) throw new ArgumentException("MaxConcurrency must be at least 1.");
            if (PositiveTtl <= TimeSpan.Zero || NegativeTtl <= TimeSpan.Zero) throw new ArgumentException("TTLs must be positive.");
            if (!Enum.IsDefined(typeof(LdapSecurity), Security)) throw new ArgumentException("Security is not one of None, StartTls, Ldaps.");
            var copy = (LdapSourceOptions)MemberwiseClone();
            copy.Server = Server.Trim();
            copy.Credential = Credential == null ? null : new NetworkCredential(Credential.UserName, Credential.Password, Credential.Domain);
            return copy;
        }
    }
}
