using System;
using System.DirectoryServices.Protocols;
using System.Threading;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// One worker's connection to the directory (<see cref="LdapSource"/>): bound once, kept between
    /// checks, closed when it fails and made again at the next check. Used by one thread at a time,
    /// the worker that owns it; its calls block (the library's synchronous API), which is why that
    /// thread is the worker's own and not one of the thread pool's.
    /// </summary>
    internal sealed class LdapSession : IDisposable
    {
        readonly LdapSourceOptions _options;
        readonly Action _searching;
        LdapConnection _connection;

        /// <param name="options">The source's checked options.</param>
        /// <param name="searching">Called before each search is sent (the source counts them).</param>
        public LdapSession(LdapSourceOptions options, Action searching)
        {
            _options = options;
            _searching = searching;
        }

        /// <summary>What the directory says of <paramref name="mailbox"/>; never throws.</summary>
        /// <param name="mailbox">The address.</param>
        /// <param name="left">What is left of the check's time, asked at each step.</param>
        public RecipientAnswer Check(string mailbox, Func<TimeSpan> left)
        {
            var filter = LdapFilter.Build(_options.Filter, mailbox);
            for (var attempt = 0; ; attempt++)
            {
                var reused = _connection != null;
                var step = "connect";
                try
                {
                    if (!reused) _connection = Connect(ref step, AtLeastOneMs(left()));
                    step = "search";
                    var time = AtLeastOneMs(left());
                    var request = new SearchRequest(_options.SearchBase, filter, SearchScope.Subtree, "1.1")
                    {
                        // Two: one says the address exists, a second that it is not unique; more cost only bytes.
                        SizeLimit = 2,
                        TimeLimit = time,
                    };
                    _searching();
                    SearchResponse response;
                    try { response = (SearchResponse)_connection.SendRequest(request, time); }
                    catch (DirectoryOperationException ex) when (ex.Response is SearchResponse partial && partial.ResultCode == ResultCode.SizeLimitExceeded)
                    {
                        response = partial;   // more entries than asked for: the address exists
                    }
                    return Answer(response, filter);
                }
                catch (DirectoryOperationException ex)
                {
                    // The directory answered, with a refusal (no such search base, not allowed, a filter
                    // it cannot read): the connection is sound, the question is not. A refusal before
                    // the bind (StartTLS) left no connection behind.
                    return Unavailable(step + " on " + _options.Target + " refused: " + Describe(ex.Response?.ResultCode, ex.Response?.ErrorMessage ?? ex.Message));
                }
                catch (Exception ex) when (IsConnectionLost(ex) && reused && attempt == 0 && left() > TimeSpan.Zero)
                {
                    Close();   // kept too long (an idle close, a restart): once more on a new one
                }
                catch (Exception ex)
                {
                    Close();
                    return Unavailable(step + " to " + _options.Target + " failed: " + Describe(ex));
                }
            }
        }

        LdapConnection Connect(ref string step, TimeSpan left)
        {
            var identifier = new LdapDirectoryIdentifier(_options.Server, _options.EffectivePort, false, false);
            var credential = _options.Credential;
            var connection = new LdapConnection(identifier, credential, credential == null ? AuthType.Anonymous : AuthType.Basic)
            {
                AutoBind = false,
                Timeout = left,
            };
            try
            {
                connection.SessionOptions.ProtocolVersion = 3;
                // A referral would send the check to a server of the directory's choosing, with our
                // credential and without our timeout; a subtree search of an AD domain returns some
                // (DomainDnsZones…) that never hold mailboxes. A forest is asked through its Global Catalog.
                connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
                if (_options.Security == LdapSecurity.Ldaps)
                    connection.SessionOptions.SecureSocketLayer = true;
                if (_options.Security == LdapSecurity.StartTls)
                {
                    // The Linux build (10.0) sends StartTLS on a handle it has not yet pointed at the
                    // server (that happens at the first bind or request), which fails as "server
                    // down". Reading the root DSE first (RFC 4512 §5.1: anonymous, nothing secret)
                    // opens the connection on every platform; StartTLS then protects it before the bind.
                    connection.SendRequest(new SearchRequest("", "(objectClass=*)", SearchScope.Base, "1.1"), left);
                    step = "StartTLS";
                    StartTls(connection);
                }
                step = credential == null ? "anonymous bind" : "bind as " + credential.UserName;
                connection.Bind();
                return connection;
            }
            catch
            {
                connection.Dispose();
                throw;
            }
        }

        /// <summary>
        /// StartTLS, tried again (twice at most) when refused as operationsError: a server refuses
        /// StartTLS while it still counts an operation of the connection as running (RFC 4511 §4.14.1),
        /// and slapd may still count the root DSE read whose answer we already have.
        /// </summary>
        static void StartTls(LdapConnection connection)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    connection.SessionOptions.StartTransportLayerSecurity(null);
                    return;
                }
                catch (DirectoryOperationException ex) when (attempt < 3 && ex.Response?.ResultCode == ResultCode.OperationsError)
                {
                    Thread.Yield();
                }
            }
        }

        RecipientAnswer Answer(SearchResponse response, string filter)
        {
            var entries = response.Entries.Count;
            if (entries == 0)
                return new RecipientAnswer(MailboxStatus.Unknown, LdapSource.SourceName, _options.Target + ": no entry matches " + filter + " under " + _options.SearchBase);
            var more = entries > 1 || response.ResultCode == ResultCode.SizeLimitExceeded ? " (and more)" : "";
            return new RecipientAnswer(MailboxStatus.Known, LdapSource.SourceName, _options.Target + ": " + response.Entries[0].DistinguishedName + more);
        }

        RecipientAnswer Unavailable(string detail) => new RecipientAnswer(MailboxStatus.Unavailable, LdapSource.SourceName, detail);

        static TimeSpan AtLeastOneMs(TimeSpan t) => t > TimeSpan.FromMilliseconds(1) ? t : TimeSpan.FromMilliseconds(1);

        /// <summary>The connection is gone (or never was): a network error, not the directory's word.</summary>
        static bool IsConnectionLost(Exception ex) =>
            ex is LdapException ldap && (ldap.ErrorCode == 81 /* LDAP_SERVER_DOWN */ || ldap.ErrorCode == 82 /* LDAP_LOCAL_ERROR */
                                         || ldap.ErrorCode == 85 /* LDAP_TIMEOUT */ || ldap.ErrorCode == 91 /* LDAP_CONNECT_ERROR */);

        static string Describe(Exception ex)
        {
            if (ex is LdapException ldap)
                return Clean(ldap.Message) + " (LDAP " + ldap.ErrorCode + (string.IsNullOrEmpty(ldap.ServerErrorMessage) ? "" : ": " + Clean(ldap.ServerErrorMessage)) + ")";
            return Clean(ex.Message ?? ex.GetType().Name);
        }

        static string Describe(ResultCode? code, string message) =>
            (code == null ? "" : code + " (" + (int)code + ")") + (string.IsNullOrEmpty(message) ? "" : (code == null ? "" : ": ") + Clean(message));

        static string Clean(string text)
        {
            text = (text ?? "").Replace("\r", " ").Replace("\n", " ").Replace("\0", "").Trim();
            return text.Length > 200 ? text.Substring(0, 200) + "…" : text;
        }

        void Close()
        {
            var connection = _connection;
            _connection = null;
            if (connection == null) return;
            try { connection.Dispose(); }
            catch (Exception) { /* closing a broken connection may complain; it is gone either way */ }
        }

        public void Dispose() => Close();
    }
}
