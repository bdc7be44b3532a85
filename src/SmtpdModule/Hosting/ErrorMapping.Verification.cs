using System;
using System.Management.Automation;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Hosting
{
    internal static partial class ErrorMapping
    {
        public const string RecipientListSyntax = "RecipientListSyntax";
        public const string RecipientListUnreadable = "RecipientListUnreadable";
        public const string InvalidCallaheadHost = "InvalidCallaheadHost";
        public const string InvalidLdapServer = "InvalidLdapServer";
        public const string InvalidLdapFilter = "InvalidLdapFilter";
        public const string LdapSearchBaseMissing = "LdapSearchBaseMissing";
        public const string LdapServerMissing = "LdapServerMissing";

        /// <summary>A recipient list that cannot be used: its message names the file, line and column.</summary>
        public static ErrorRecord From(RecipientListException ex)
        {
            if (ex == null) throw new ArgumentNullException(nameof(ex));
            return ex.IsUnreadable
                ? new ErrorRecord(ex, RecipientListUnreadable, ErrorCategory.ReadError, ex.Path)
                : new ErrorRecord(ex, RecipientListSyntax, ErrorCategory.ParserError, ex.Path);
        }

        public static ErrorRecord BadCallaheadHost(string value, string reason) =>
            new ErrorRecord(new ArgumentException("'" + value + "' is not a callahead host (host[:port]): " + reason + "."),
                InvalidCallaheadHost, ErrorCategory.InvalidArgument, value);

        public static ErrorRecord BadLdapServer(string value, string reason) =>
            new ErrorRecord(new ArgumentException("'" + value + "' is not an LDAP server (ldap://host[:port], ldaps://host[:port] or host[:port]): " + reason + "."),
                InvalidLdapServer, ErrorCategory.InvalidArgument, value);

        public static ErrorRecord BadLdapFilter(string value, string reason) =>
            new ErrorRecord(new ArgumentException("'" + value + "' is not an LDAP filter template: " + reason + "."),
                InvalidLdapFilter, ErrorCategory.InvalidArgument, value);

        /// <summary>-LdapServer without -LdapSearchBase: a search of the whole server is never what is meant.</summary>
        public static ErrorRecord NoLdapSearchBase(string server) =>
            new ErrorRecord(new ArgumentException("-LdapServer '" + server + "' needs -LdapSearchBase: the DN the search starts at, e.g. dc=example,dc=org."),
                LdapSearchBaseMissing, ErrorCategory.InvalidArgument, server);

        /// <summary>An -Ldap* parameter without -LdapServer: it would be silently ignored.</summary>
        public static ErrorRecord NoLdapServer(string parameter) =>
            new ErrorRecord(new ArgumentException("-" + parameter + " is for LDAP verification, which needs -LdapServer."),
                LdapServerMissing, ErrorCategory.InvalidArgument, parameter);
    }
}
