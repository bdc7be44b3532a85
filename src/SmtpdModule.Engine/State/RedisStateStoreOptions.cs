using System;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography.X509Certificates;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// Where a <see cref="RedisStateStore"/> connects and how long it may wait. Made from a URI
    /// (<c>redis://host[:port][/db]</c>, <c>rediss://</c> for TLS) by <see cref="FromUri"/>; the
    /// credential is given apart, never in the URI, so it stays out of command lines and logs.
    /// </summary>
    public sealed class RedisStateStoreOptions
    {
        /// <summary>Redis's registered port, used when the URI names none.</summary>
        public const int DefaultPort = 6379;

        /// <summary>The key prefix when none is given.</summary>
        public const string DefaultKeyPrefix = "smtpd:";

        /// <summary>The bound on one operation when none is given: a session waits no longer than this
        /// for a store that is slow or gone.</summary>
        public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromMilliseconds(250);

        /// <summary>How long one background connection attempt may take when not told.</summary>
        public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

        /// <summary>The server's host name or IP address (an IPv6 address without brackets).</summary>
        public string Host { get; set; }

        public int Port { get; set; } = DefaultPort;

        /// <summary>The Redis database number (SELECT); 0 unless the URI's path names another.</summary>
        public int Database { get; set; }

        /// <summary>TLS from the first byte (<c>rediss://</c>); the server's certificate must match <see cref="Host"/>.</summary>
        public bool UseTls { get; set; }

        /// <summary>The ACL user (Redis 6 and later); null or empty for AUTH with the password alone
        /// (requirepass, or the user "default").</summary>
        public string User { get; set; }

        /// <summary>The password for AUTH; null for a server that asks none.</summary>
        public string Password { get; set; }

        /// <summary>Put before every key, so several deployments (or tests) can share one Redis
        /// database without meeting; listings see only keys under it. May be empty.</summary>
        public string KeyPrefix { get; set; } = DefaultKeyPrefix;

        /// <summary>The most one operation may take, from the call until its answer, including a wait
        /// for a connection still being made; after it the call throws <see cref="StateStoreUnavailableException"/>.</summary>
        public TimeSpan OperationTimeout { get; set; } = DefaultOperationTimeout;

        /// <summary>The most one connection attempt may take; attempts go on in the background, never
        /// on a session's path.</summary>
        public TimeSpan ConnectTimeout { get; set; } = DefaultConnectTimeout;

        /// <summary>With <see cref="UseTls"/>: a certificate authority to trust for this server besides
        /// the machine's own (a private CA); null trusts the machine's store alone.</summary>
        public X509Certificate2 TrustedIssuer { get; set; }

        /// <summary>Reads <c>redis://host[:port][/db]</c> or <c>rediss://host[:port][/db]</c>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="uri"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="uri"/> is not such a URI, or carries a
        /// user name or password, a query or a fragment.</exception>
        public static RedisStateStoreOptions FromUri(string uri)
        {
            if (uri == null) throw new ArgumentNullException(nameof(uri));
            if (!Uri.TryCreate(uri.Trim(), UriKind.Absolute, out var parsed))
                throw new ArgumentException("'" + uri + "' is not a URI; expected redis://host:port[/db] or rediss://host:port[/db]", nameof(uri));

            var options = new RedisStateStoreOptions();
            switch (parsed.Scheme)
            {
                case "redis": break;
                case "rediss": options.UseTls = true; break;
                default:
                    throw new ArgumentException("'" + uri + "': the scheme must be redis:// or rediss:// (TLS), not " + parsed.Scheme + "://", nameof(uri));
            }
            if (parsed.UserInfo.Length > 0)
                throw new ArgumentException("'" + Redact(parsed) + "': give the user name and password as a credential, not in the URI", nameof(uri));
            if (parsed.Query.Length > 0 || parsed.Fragment.Length > 0)
                throw new ArgumentException("'" + uri + "': a Redis URI here takes no ?query or #fragment", nameof(uri));

            options.Host = parsed.HostNameType == UriHostNameType.IPv6 ? parsed.Host.Trim('[', ']') : parsed.Host;
            if (string.IsNullOrEmpty(options.Host))
                throw new ArgumentException("'" + uri + "' names no host", nameof(uri));
            options.Port = parsed.IsDefaultPort || parsed.Port < 0 ? DefaultPort : parsed.Port;

            var path = parsed.AbsolutePath.Trim('/');
            if (path.Length > 0)
            {
                if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int database))
                    throw new ArgumentException("'" + uri + "': the path must be a database number such as /0, not /" + path, nameof(uri));
                options.Database = database;
            }
            return options;
        }

        /// <summary>Sets <see cref="User"/> and <see cref="Password"/> from a credential as PowerShell
        /// holds one; an empty <paramref name="user"/> means password-only AUTH.</summary>
        public void SetCredential(string user, SecureString password)
        {
            User = string.IsNullOrEmpty(user) ? null : user;
            Password = password == null ? null : ToPlainText(password);
        }

        /// <summary>Checks every setting; the store calls it before using the options.</summary>
        /// <exception cref="ArgumentException">A setting is missing or out of range; the message names it.</exception>
        public void Validate()
        {
            if (string.IsNullOrWhiteSpace(Host))
                throw new ArgumentException("Host: a Redis host name or address is required", nameof(Host));
            if (Port < 1 || Port > 65535)
                throw new ArgumentException("Port: " + Port + " is not a TCP port (1-65535)", nameof(Port));
            if (Database < 0)
                throw new ArgumentException("Database: " + Database + " is negative", nameof(Database));
            if (KeyPrefix == null)
                throw new ArgumentException("KeyPrefix: null; use an empty string for no prefix", nameof(KeyPrefix));
            if (!string.IsNullOrEmpty(User) && Password == null)
                throw new ArgumentException("Password: the user '" + User + "' needs a password", nameof(Password));
            CheckTime(OperationTimeout, nameof(OperationTimeout));
            CheckTime(ConnectTimeout, nameof(ConnectTimeout));
            if (TrustedIssuer != null && !UseTls)
                throw new ArgumentException("TrustedIssuer: only used with TLS (rediss://)", nameof(TrustedIssuer));
        }

        /// <summary>The store as a URI, without credential: what errors and logs name.</summary>
        public override string ToString()
        {
            var host = IPAddress.TryParse(Host ?? "", out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? "[" + Host + "]" : Host;
            return (UseTls ? "rediss://" : "redis://") + host + ":" + Port.ToString(CultureInfo.InvariantCulture)
                + "/" + Database.ToString(CultureInfo.InvariantCulture);
        }

        internal RedisStateStoreOptions Clone() => (RedisStateStoreOptions)MemberwiseClone();

        static void CheckTime(TimeSpan value, string name)
        {
            // Whole milliseconds in an int: what the client library and the timers take.
            if (value <= TimeSpan.Zero || value.TotalMilliseconds > int.MaxValue)
                throw new ArgumentException(name + ": " + value + " must be positive and under 24 days", name);
        }

        static string Redact(Uri uri) => uri.Scheme + "://***@" + uri.Authority + uri.PathAndQuery;

        static string ToPlainText(SecureString secure)
        {
            IntPtr text = IntPtr.Zero;
            try
            {
                text = Marshal.SecureStringToGlobalAllocUnicode(secure);
                return Marshal.PtrToStringUni(text, secure.Length);
            }
            finally
            {
                if (text != IntPtr.Zero) Marshal.ZeroFreeGlobalAllocUnicode(text);
            }
        }
    }
}
