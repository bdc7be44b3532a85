using System;
using System.Collections.Concurrent;
using System.DirectoryServices.Protocols;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Asks a directory (Active Directory, OpenLDAP…) whether an address has a mailbox: one subtree
    /// search under <see cref="LdapSourceOptions.SearchBase"/> with
    /// <see cref="LdapSourceOptions.Filter"/>, the address escaped into it (RFC 4515), no attribute
    /// asked for (RFC 4511 §4.5.1.8: "1.1"). An entry or more is Known, none is Unknown; an error of
    /// any kind (connect, TLS, bind, a search the directory refuses, no answer within
    /// <see cref="LdapSourceOptions.Timeout"/>) is Unavailable with the reason, never Unknown: a
    /// mistyped search base must not refuse everyone.
    /// </summary>
    /// <remarks>
    /// <para><b>Connections.</b> Up to <see cref="LdapSourceOptions.MaxConcurrency"/> connections,
    /// each bound once and used by one check at a time (the library's synchronous calls, on the
    /// thread pool), kept between checks. A connection that fails is closed; a check whose
    /// reused connection turns out dead (the directory restarted, or closed it as idle, as AD does
    /// after 15 minutes) tries once more on a new one. A check that cannot get a connection within
    /// the timeout is Unavailable, so a flood of RCPTs turns into temporary failures, not a queue; a
    /// call the library does not give back keeps its slot until it returns, so stuck calls never
    /// exceed the limit.</para>
    /// <para><b>Only APIs of both builds.</b> Windows PowerShell binds the .NET Framework's
    /// System.DirectoryServices.Protocols (wldap32, the Windows certificate store); PowerShell 7 on
    /// Linux and macOS binds the runtime one over OpenLDAP's libldap, which trusts what its own
    /// configuration says (ldap.conf's TLS_CACERT, or LDAPTLS_CACERT in the process's environment at
    /// start). So nothing here sets certificate callbacks or per-platform TLS options.</para>
    /// <para>Nothing is cached here; the verifier caches answers for
    /// <see cref="LdapSourceOptions.PositiveTtl"/> and <see cref="LdapSourceOptions.NegativeTtl"/>.</para>
    /// </remarks>
    public sealed class LdapSource : IRecipientSource, IDisposable
    {
        /// <summary>The source's name in answers, the log and -Explain.</summary>
        public const string SourceName = "ldap";

        readonly LdapSourceOptions _options;
        readonly SemaphoreSlim _slots;
        readonly ConcurrentBag<LdapConnection> _idle = new ConcurrentBag<LdapConnection>();
        int _searches;
        volatile bool _disposed;

        /// <param name="options">Copied; later changes do not affect the source.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are not valid (see <see cref="LdapSourceOptions"/>).</exception>
        public LdapSource(LdapSourceOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            _options = options.Snapshot();
            _slots = new SemaphoreSlim(_options.MaxConcurrency, _options.MaxConcurrency);
        }

        /// <inheritdoc/>
        public string Name => SourceName;

        /// <summary>The settings in use (a copy): the pipeline reads the TTLs from here.</summary>
        public LdapSourceOptions Options => _options;

        /// <summary>Searches sent so far (for status and tests).</summary>
        public int Searches => Volatile.Read(ref _searches);

        /// <inheritdoc/>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="mailbox"/> is empty.</exception>
        /// <exception cref="ObjectDisposedException">The source was disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired; a
        /// search under way finishes on its own and its connection is kept.</exception>
        public async Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default)
        {
            if (mailbox == null) throw new ArgumentNullException(nameof(mailbox));
            if (mailbox.Length == 0) throw new ArgumentException("The mailbox is empty.", nameof(mailbox));
            if (_disposed) throw new ObjectDisposedException(nameof(LdapSource));

            var deadline = DateTime.UtcNow + _options.Timeout;
            if (!await _slots.WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false))
                return Unavailable("all " + _options.MaxConcurrency + " connections to " + _options.Target + " busy for " + Seconds(_options.Timeout));

            Task<RecipientAnswer> search;
            try { search = Task.Run(() => Search(mailbox, deadline)); }
            catch { _slots.Release(); throw; }

            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var left = deadline - DateTime.UtcNow;
                var timer = Task.Delay(left > TimeSpan.Zero ? left : TimeSpan.Zero, wait.Token);
                if (await Task.WhenAny(search, timer).ConfigureAwait(false) == search)
                {
                    wait.Cancel();
                    _slots.Release();
                    return await search.ConfigureAwait(false);
                }
                // The library's call goes on; its slot is free only when it returns.
                _ = search.ContinueWith(_ => _slots.Release(), TaskScheduler.Default);
                cancellationToken.ThrowIfCancellationRequested();
                return Unavailable("no answer from " + _options.Target + " within " + Seconds(_options.Timeout));
            }
        }

        /// <summary>One check on a connection of the pool; runs on a pool thread, never throws.</summary>
        RecipientAnswer Search(string mailbox, DateTime deadline)
        {
            var filter = LdapFilter.Build(_options.Filter, mailbox);
            for (var attempt = 0; ; attempt++)
            {
                var reused = _idle.TryTake(out var connection);
                var step = "connect";
                try
                {
                    if (!reused)
                    {
                        connection = Connect(ref step);
                    }
                    step = "search";
                    var left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero) left = TimeSpan.FromMilliseconds(1);
                    var request = new SearchRequest(_options.SearchBase, filter, SearchScope.Subtree, "1.1")
                    {
                        // Two: one says the address exists, a second that it is not unique; more cost only bytes.
                        SizeLimit = 2,
                        TimeLimit = left,
                    };
                    Interlocked.Increment(ref _searches);
                    SearchResponse response;
                    try { response = (SearchResponse)connection.SendRequest(request, left); }
                    catch (DirectoryOperationException ex) when (ex.Response is SearchResponse partial && partial.ResultCode == ResultCode.SizeLimitExceeded)
                    {
                        response = partial;   // more entries than asked for: the address exists
                    }
                    Keep(connection);
                    return Answer(response, filter);
                }
                catch (DirectoryOperationException ex)
                {
                    // The directory answered, with a refusal (no such search base, not allowed, a filter
                    // it cannot read): the connection is sound, the question is not. Before the bind (a
                    // refused StartTLS) there is no connection to keep.
                    if (connection != null) Keep(connection);
                    return Unavailable(step + " on " + _options.Target + " refused: " + Describe(ex.Response?.ResultCode, ex.Response?.ErrorMessage ?? ex.Message));
                }
                catch (Exception ex) when (IsConnectionLost(ex) && reused && attempt == 0)
                {
                    Close(connection);   // kept too long (an idle close, a restart): once more on a new one
                }
                catch (Exception ex)
                {
                    Close(connection);
                    return Unavailable(step + " to " + _options.Target + " failed: " + Describe(ex));
                }
            }
        }

        LdapConnection Connect(ref string step)
        {
            var identifier = new LdapDirectoryIdentifier(_options.Server, _options.EffectivePort, false, false);
            var credential = _options.Credential;
            var connection = new LdapConnection(identifier, credential, credential == null ? AuthType.Anonymous : AuthType.Basic)
            {
                AutoBind = false,
                Timeout = _options.Timeout,
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
                    connection.SendRequest(new SearchRequest("", "(objectClass=*)", SearchScope.Base, "1.1"), _options.Timeout);
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
                return new RecipientAnswer(MailboxStatus.Unknown, Name, _options.Target + ": no entry matches " + filter + " under " + _options.SearchBase);
            var more = entries > 1 || response.ResultCode == ResultCode.SizeLimitExceeded ? " (and more)" : "";
            return new RecipientAnswer(MailboxStatus.Known, Name, _options.Target + ": " + response.Entries[0].DistinguishedName + more);
        }

        void Keep(LdapConnection connection)
        {
            _idle.Add(connection);
            // Dispose may have emptied the pool between our check and the Add.
            if (_disposed) DrainPool();
        }

        static void Close(LdapConnection connection)
        {
            if (connection == null) return;
            try { connection.Dispose(); }
            catch (Exception) { /* closing a broken connection may complain; it is gone either way */ }
        }

        void DrainPool()
        {
            while (_idle.TryTake(out var c)) Close(c);
        }

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

        static string Seconds(TimeSpan t) => t.TotalSeconds + " s";

        RecipientAnswer Unavailable(string detail) => new RecipientAnswer(MailboxStatus.Unavailable, Name, detail);

        /// <summary>Closes the idle connections; one in use is closed when its check ends.</summary>
        public void Dispose()
        {
            _disposed = true;
            DrainPool();
        }
    }
}
