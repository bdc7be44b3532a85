using System;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// A directory server as admins write it: <c>ldap://dc1.example.org</c>,
    /// <c>ldaps://dc1.example.org:3269</c>, or a bare <c>host[:port]</c> (plain LDAP). The scheme
    /// says the security (<c>ldaps://</c>: TLS from the first byte); StartTLS is asked for separately,
    /// since no URL scheme says it. The host part is written as for a smart host (IPv6 in brackets
    /// when a port follows); a trailing <c>/</c> is allowed, a DN or query after it is not (the
    /// search base has its own setting).
    /// </summary>
    public static class LdapServerAddress
    {
        /// <param name="text">The address.</param>
        /// <param name="startTls">StartTLS was asked for: refused with <c>ldaps://</c>, which is TLS already.</param>
        /// <param name="options">Receives the server, port (0 when none was given) and security when true.</param>
        /// <param name="reason">Why not, when false.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        public static bool TryApply(string text, bool startTls, LdapSourceOptions options, out string reason)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            reason = null;
            if (string.IsNullOrWhiteSpace(text)) { reason = "it is empty"; return false; }
            var rest = text.Trim();
            var security = LdapSecurity.None;
            var scheme = rest.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0)
            {
                var name = rest.Substring(0, scheme);
                if (name.Equals("ldaps", StringComparison.OrdinalIgnoreCase)) security = LdapSecurity.Ldaps;
                else if (!name.Equals("ldap", StringComparison.OrdinalIgnoreCase))
                {
                    reason = "the scheme '" + name + "' is not ldap:// or ldaps://";
                    return false;
                }
                rest = rest.Substring(scheme + 3);
                if (rest.EndsWith("/", StringComparison.Ordinal)) rest = rest.Substring(0, rest.Length - 1);
                if (rest.IndexOfAny(new[] { '/', '?' }) >= 0)
                {
                    reason = "only ldap[s]://host[:port] is taken: give the search base with its own parameter";
                    return false;
                }
            }
            if (!HostPortText.TryParse(rest, out var host, out var port, out reason)) return false;
            if (startTls && security == LdapSecurity.Ldaps)
            {
                reason = "ldaps:// is TLS from the first byte; StartTLS is for ldap://";
                return false;
            }
            options.Server = host;
            options.Port = port;
            options.Security = startTls ? LdapSecurity.StartTls : security;
            return true;
        }
    }
}
