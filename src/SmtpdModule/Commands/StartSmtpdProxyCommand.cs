using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Threading;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Metrics;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Smtp.Tls;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.State;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Start-SmtpdProxy: starts smtpd in this PowerShell process and returns at once with the
    /// running proxy (or, with -Wait, serves until Ctrl+C or Stop-SmtpdProxy).
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "SmtpdProxy", DefaultParameterSetName = NoTls)]
    [OutputType(typeof(SmtpProxy))]
    public sealed class StartSmtpdProxyCommand : SmtpdCmdlet
    {
        const string NoTls = "NoTls", Pfx = "Pfx", Pem = "Pem", Store = "Store";

        [Parameter(Position = 0)]
        [ValidateNotNullOrEmpty]
        public string[] Listen { get; set; } = { "0.0.0.0:25", "[::]:25" };

        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string RulesPath { get; set; }

        [Parameter(Mandatory = true)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        [Parameter] [ValidateNotNullOrEmpty] public string HostName { get; set; }
        [Parameter] public string[] DnsServer { get; set; }
        // Held as a number: a field of an engine enum would make PowerShell load the engine while it
        // lists this assembly's types, before Hosting/ModuleInitializer.cs has said where it is.
        [Parameter] public DefaultAction DefaultAction { get => (DefaultAction)_defaultAction; set => _defaultAction = (int)value; }
        int _defaultAction = (int)DefaultAction.Allow;
        [Parameter] public LookupFailurePolicy OnLookupFailure { get => (LookupFailurePolicy)_onLookupFailure; set => _onLookupFailure = (int)value; }
        int _onLookupFailure = (int)LookupFailurePolicy.NoMatch;
        [Parameter] [ValidateRange(0, 3600)] public double NotoDelaySeconds { get; set; } = 50;
        [Parameter] [ValidateRange(0, 3600)] public double DenyDelaySeconds { get; set; } = 50;
        [Parameter] [ValidateRange(0, 3600)] public double TarpitSeconds { get; set; }
        [Parameter] [ValidateRange(1, long.MaxValue)] public long MaxMessageSize { get; set; } = 25L * 1024 * 1024;
        [Parameter] [ValidateRange(1, 100000)] public int MaxRecipients { get; set; } = 100;
        [Parameter] [ValidateRange(512, 1048576)] public int MaxCommandLineLength { get; set; } = 2048;
        [Parameter] [ValidateRange(1000, int.MaxValue)] public int MaxTextLineLength { get; set; } = 65536;
        [Parameter] [ValidateRange(1, 86400)] public double ReadTimeoutSeconds { get; set; } = 300;
        [Parameter] [ValidateRange(1, 1000000)] public int MaxSessions { get; set; } = 4000;
        [Parameter] [ValidateRange(1, 1000000)] public int MaxSessionsPerClient { get; set; } = 20;
        [Parameter] [ValidateRange(1, 10000)] public int MaxErrors { get; set; } = 20;
        [Parameter] [ValidateRange(0, 60)] public double IdentTimeoutSeconds { get; set; } = 10;
        [Parameter] public SwitchParameter SkipForwardConfirmation { get; set; }
        [Parameter] public SwitchParameter NoReverseLookup { get; set; }
        /// <summary>Hand source routes, %-hacks, bang paths and quoted '@' to the rules, as the original did.</summary>
        [Parameter] public SwitchParameter AcceptRoutedAddresses { get; set; }
        [Parameter] public string LogPath { get; set; }
        /// <summary>The log's file is rotated before it would pass this many bytes; 0: never by size.</summary>
        [Parameter] [ValidateRange(0, long.MaxValue)] public long LogMaxSize { get; set; } = 100L * 1024 * 1024;
        /// <summary>The log's file is rotated once its first line is this old; zero: never by age.</summary>
        [Parameter] public TimeSpan LogMaxAge { get; set; } = TimeSpan.FromDays(1);
        /// <summary>Rotated log files kept; older ones are deleted.</summary>
        [Parameter] [ValidateRange(0, 100000)] public int LogMaxFiles { get; set; } = 30;
        /// <summary>Rotated log files older than this are deleted; zero: kept whatever their age.</summary>
        [Parameter] public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(14);
        /// <summary>Start even when other users may change the rules file or the spool (least privilege is checked at start).</summary>
        [Parameter] public SwitchParameter AllowInsecurePermissions { get; set; }
        /// <summary>A lone CR or LF in message text: stored as CRLF (Normalize) or the message refused (Reject).</summary>
        [Parameter] public BareLineEndingPolicy BareLineEnding { get => (BareLineEndingPolicy)_bareLineEnding; set => _bareLineEnding = (int)value; }
        int _bareLineEnding = (int)BareLineEndingPolicy.Normalize;   // a number, as _defaultAction
        /// <summary>Header fields removed from incoming mail (wildcards allowed); replaces the default list, empty removes none.</summary>
        [Parameter] [AllowEmptyCollection] public string[] RemoveHeader { get; set; }
        /// <summary>A file of the addresses and domains that have a mailbox downstream: other recipients get 550 5.1.1.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string RecipientListPath { get; set; }
        /// <summary>Look each allowed recipient up in this directory (ldap://host[:port], ldaps://host[:port] or host[:port]).</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string LdapServer { get; set; }
        /// <summary>The DN the directory search starts at (required with -LdapServer).</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string LdapSearchBase { get; set; }
        /// <summary>The search filter, {0} where the address goes; Active Directory's proxyAddresses/mail filter by default.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string LdapFilter { get; set; }
        /// <summary>The account to bind as (a DN, or user@domain for Active Directory); anonymous without it.</summary>
        [Parameter] [Credential] public PSCredential LdapCredential { get; set; }
        /// <summary>Send StartTLS on the plain LDAP port before binding.</summary>
        [Parameter] public SwitchParameter LdapStartTls { get; set; }
        /// <summary>Ask the real mail server (host[:port]) RCPT TO for each allowed recipient; never DATA.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string CallaheadHost { get; set; }
        [Parameter] public CallaheadTlsMode CallaheadTlsMode { get => (CallaheadTlsMode)_callaheadTls; set => _callaheadTls = (int)value; }
        int _callaheadTls = (int)CallaheadTlsMode.None;   // a number, as _defaultAction
        /// <summary>The real mail server (host[:port], as Start-SmtpFwd's): its EHLO's SIZE and SMTPUTF8 cap what the proxy offers.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string SmartHost { get; set; }
        /// <summary>What a recipient gets when no verification source can answer.</summary>
        [Parameter] public VerificationFailMode RecipientVerificationFailMode { get => (VerificationFailMode)_failMode; set => _failMode = (int)value; }
        int _failMode = (int)VerificationFailMode.TempFail;   // a number, as _defaultAction

        /// <summary>The protocol tests inside the session (after postscreen): what a failure gets when no rule line decided on it.</summary>
        [Parameter] public ProtocolTestAction PregreetAction { get => (ProtocolTestAction)_pregreet; set => _pregreet = (int)value; }
        int _pregreet = (int)ProtocolTestAction.Ignore;   // a number, as _defaultAction
        [Parameter] public ProtocolTestAction PipeliningAction { get => (ProtocolTestAction)_pipelining; set => _pipelining = (int)value; }
        int _pipelining = (int)ProtocolTestAction.Ignore;   // a number, as _defaultAction
        [Parameter] public ProtocolTestAction NonSmtpAction { get => (ProtocolTestAction)_nonSmtp; set => _nonSmtp = (int)value; }
        int _nonSmtp = (int)ProtocolTestAction.Enforce;   // a number, as _defaultAction
        [Parameter] public ProtocolTestAction BareNewlineAction { get => (ProtocolTestAction)_bareNewline; set => _bareNewline = (int)value; }
        int _bareNewline = (int)ProtocolTestAction.Ignore;   // a number, as _defaultAction
        /// <summary>How long the pregreet test's teaser line waits (0: no pregreet test).</summary>
        [Parameter] [ValidateRange(0, 60)] public double GreetWaitSeconds { get; set; } = 3;
        /// <summary>Networks (CIDR) that skip every protocol test.</summary>
        [Parameter] [ValidateNotNull] public string[] ProtocolTestExempt { get; set; }

        /// <summary>When the sender is checked with SPF: Auto (when a rule tests SPF=) or Always (every message then
        /// carries Received-SPF and Authentication-Results).</summary>
        [Parameter] public SpfCheckMode SpfCheck { get => (SpfCheckMode)_spfCheck; set => _spfCheck = (int)value; }
        int _spfCheck = (int)SpfCheckMode.Auto;   // a number, as _defaultAction
        /// <summary>The longest one SPF check may take, all its lookups together; after it the result is TempError.</summary>
        [Parameter] [ValidateRange(0.1, 300)] public double SpfTimeoutSeconds { get; set; } = 20;
        /// <summary>The authserv-id of the Authentication-Results field (the same on every MX of a domain); the host name by default.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string AuthServId { get; set; }

        /// <summary>How long after its first try a greylisted sender must wait (grey lines).</summary>
        [Parameter] public TimeSpan GreylistDelay { get; set; } = TimeSpan.FromMinutes(5);
        /// <summary>How long a first try is remembered; a retry after it is a first try again.</summary>
        [Parameter] public TimeSpan GreylistRetryWindow { get; set; } = TimeSpan.FromDays(2);
        /// <summary>How long a passed triplet and a client's count of passes are kept after their last use.</summary>
        [Parameter] public TimeSpan GreylistPassLifetime { get; set; } = TimeSpan.FromDays(35);
        /// <summary>Proven retries after which a client network (or SPF domain) skips greylisting; 0: never.</summary>
        [Parameter] [ValidateRange(0, 1000000)] public int GreylistAutoAllowAfter { get; set; } = 5;
        [Parameter] [ValidateRange(8, 32)] public int GreylistIPv4PrefixLength { get; set; } = 24;
        [Parameter] [ValidateRange(16, 128)] public int GreylistIPv6PrefixLength { get; set; } = 64;
        /// <summary>Recipient addresses no real user has: a greylisted client that writes to one is refused for -GreytrapLifetime.</summary>
        [Parameter] [ValidateNotNull] public string[] Greytrap { get; set; }
        [Parameter] public TimeSpan GreytrapLifetime { get; set; } = TimeSpan.FromDays(1);

        /// <summary>Sessions open at once from one client network (/24, /64) on this proxy; 0: no limit.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int MaxSessionsPerNetwork { get; set; } = 200;
        /// <summary>New connections per minute from one client network, counted in the state store; 0: no limit.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int MaxConnectionsPerMinute { get; set; } = 3000;
        /// <summary>RCPT commands per minute from one client network, counted in the state store; 0: no limit.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int MaxRecipientsPerMinute { get; set; } = 30000;
        /// <summary>RCPT commands per minute for one sender whose SPF passes; 0: no limit.</summary>
        [Parameter] [ValidateRange(0, int.MaxValue)] public int MaxSenderRecipientsPerMinute { get; set; } = 10000;
        /// <summary>Networks (CIDR) no rate limit applies to.</summary>
        [Parameter] [ValidateNotNull] public string[] RateLimitExempt { get; set; }

        /// <summary>The folder of the proxy's own state store (greylisting, rate limits); proxy-state in the spool by default.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string StatePath { get; set; }
        /// <summary>The Redis shared by the proxies of one set of MX records: redis://host[:port][/db] or rediss:// (TLS).</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string StateStore { get; set; }
        /// <summary>Redis's ACL user and password (user "default" with the password for requirepass).</summary>
        [Parameter] [Credential] public PSCredential StateStoreCredential { get; set; }
        /// <summary>What grey lines decide when the state store cannot be reached: Open lets mail through, Closed defers.</summary>
        [Parameter] public StateFailMode StateStoreFailMode { get => (StateFailMode)_stateFailMode; set => _stateFailMode = (int)value; }
        int _stateFailMode = (int)StateFailMode.Open;   // a number, as _defaultAction

        [Parameter(Mandatory = true, ParameterSetName = Pfx)] public string CertificatePath { get; set; }
        [Parameter(ParameterSetName = Pfx)] public SecureString CertificatePassword { get; set; }
        [Parameter(Mandatory = true, ParameterSetName = Pem)] public string CertificatePemPath { get; set; }
        [Parameter(Mandatory = true, ParameterSetName = Pem)] public string CertificateKeyPath { get; set; }
        [Parameter(Mandatory = true, ParameterSetName = Store)] public string CertificateThumbprint { get; set; }

        /// <summary>Serve Prometheus metrics on this ip:port (GET /metrics); port 0 picks a free one (see MetricsEndPoint).</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string MetricsListen { get; set; }

        /// <summary>Serve until Ctrl+C, a stop signal or Stop-SmtpdProxy; with -Verbose every event is shown.</summary>
        [Parameter] public SwitchParameter Wait { get; set; }

        /// <summary>How long a stop under -Wait (Ctrl+C, SIGTERM, Stop-SmtpdProxy through the control channel) lets
        /// transactions in flight finish before their connections are closed.</summary>
        [Parameter] [ValidateRange(0, 3600)] public double StopTimeoutSeconds { get; set; } = 30;

        LdapParameters LdapGiven() => new LdapParameters
        {
            Server = LdapServer, SearchBase = LdapSearchBase, Filter = LdapFilter, Credential = LdapCredential, StartTls = LdapStartTls,
        };

        protected override void EndProcessing()
        {
            var options = new SmtpProxyOptions
            {
                RulesPath = ResolveExistingFile(RulesPath),
                SpoolPath = RequireSpoolFolder(ResolvePath(SpoolPath)),
                LogPath = LogPath == null ? null : ResolvePath(LogPath),
                ConfirmReverseName = !SkipForwardConfirmation,
                ReverseLookup = !NoReverseLookup,
                StrictAddresses = !AcceptRoutedAddresses,
                AllowInsecurePermissions = AllowInsecurePermissions,
                BareLineEnding = BareLineEnding,
                IdentTimeout = TimeSpan.FromSeconds(IdentTimeoutSeconds),
                Tarpit = TimeSpan.FromSeconds(TarpitSeconds),
                MaxSessions = MaxSessions,
                MaxSessionsPerClient = MaxSessionsPerClient,
                StopTimeout = TimeSpan.FromSeconds(StopTimeoutSeconds),
                RuleEvaluation = new RuleEvaluationOptions
                {
                    DefaultAction = DefaultAction,
                    OnLookupFailure = OnLookupFailure,
                    NotoDelay = TimeSpan.FromSeconds(NotoDelaySeconds),
                    DenyDelay = TimeSpan.FromSeconds(DenyDelaySeconds),
                    Greylist = new GreylistOptions
                    {
                        Delay = GreylistDelay,
                        RetryWindow = GreylistRetryWindow,
                        PassLifetime = GreylistPassLifetime,
                        AutoAllowAfter = GreylistAutoAllowAfter,
                        IPv4PrefixLength = GreylistIPv4PrefixLength,
                        IPv6PrefixLength = GreylistIPv6PrefixLength,
                        Greytraps = new List<string>(Greytrap ?? new string[0]),
                        TrapLifetime = GreytrapLifetime,
                        FailMode = StateStoreFailMode,
                    },
                },
                Limits = new SessionLimits
                {
                    MaxMessageSize = MaxMessageSize,
                    MaxRecipients = MaxRecipients,
                    MaxCommandLine = MaxCommandLineLength,
                    MaxTextLine = MaxTextLineLength,
                    ReadTimeout = TimeSpan.FromSeconds(ReadTimeoutSeconds),
                    MaxErrors = MaxErrors,
                },
            };
            options.ProtocolTests = new ProtocolTestOptions
            {
                PregreetAction = PregreetAction,
                PipeliningAction = PipeliningAction,
                NonSmtpAction = NonSmtpAction,
                BareNewlineAction = BareNewlineAction,
                GreetWait = TimeSpan.FromSeconds(GreetWaitSeconds),
                Exempt = new List<string>(ProtocolTestExempt ?? new string[0]),
            };
            try { options.LogRotation = LogRotationParameters.From(LogMaxSize, LogMaxAge, LogMaxFiles, LogRetention); }
            catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadProxyOption(ex)); }
            if (StatePath != null && StateStore != null)
                ThrowTerminatingError(ErrorMapping.BadProxyOption(new ArgumentException("Give -StatePath (this proxy's own state) or -StateStore (a shared Redis), not both.", "StatePath")));
            if (StatePath != null) options.StatePath = ResolvePath(StatePath);
            if (StateStore != null)
            {
                try
                {
                    options.Redis = RedisStateStoreOptions.FromUri(StateStore);
                    if (StateStoreCredential != null)
                        options.Redis.SetCredential(StateStoreCredential.UserName, StateStoreCredential.Password);
                }
                catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadProxyOption(ex)); }
            }
            else if (StateStoreCredential != null)
                ThrowTerminatingError(ErrorMapping.BadProxyOption(new ArgumentException("-StateStoreCredential needs -StateStore.", "StateStoreCredential")));
            options.RateLimits = new RateLimitOptions
            {
                ConnectionsAtOnce = MaxSessionsPerNetwork,
                ConnectionsPerMinute = MaxConnectionsPerMinute,
                RecipientsPerMinute = MaxRecipientsPerMinute,
                SenderRecipientsPerMinute = MaxSenderRecipientsPerMinute,
                Exempt = new List<string>(RateLimitExempt ?? new string[0]),
            };
            options.Spf = new SpfOptions { Mode = SpfCheck, Timeout = TimeSpan.FromSeconds(SpfTimeoutSeconds), AuthServId = AuthServId };
            if (HostName != null) options.HostName = HostName;
            if (RemoveHeader != null) options.RemoveHeaders = new List<string>(RemoveHeader);
            options.Listen = ParseListen();
            options.Dns = DnsOptionsFrom(DnsServer);
            options.Tls = LoadCertificate();
            options.RecipientVerification = RecipientVerificationFrom(RecipientListPath, LdapGiven(), CallaheadHost, CallaheadTlsMode, HostName, RecipientVerificationFailMode);
            if (SmartHost != null)
            {
                var probe = SmartHostProbe.From(SmartHost, options.HostName, out var badHost);
                if (badHost != null) ThrowTerminatingError(badHost);
                options.SmartHostLimits = new DownstreamLimitsRefresher(probe);   // the proxy owns it from here
            }

            IPEndPoint metricsAt = null;
            if (MetricsListen != null && !MetricsEndpoint.TryParseListen(MetricsListen, out metricsAt, out var badMetrics))
                ThrowTerminatingError(ErrorMapping.BadMetricsListen(MetricsListen, badMetrics));

            var events = Wait ? new EventQueue() : null;
            SmtpProxy proxy = null;
            try
            {
                proxy = SmtpProxy.Start(options, events);
            }
            catch (RuleFileException ex) { ThrowTerminatingError(ErrorMapping.From(ex, options.RulesPath)); }
            catch (SpoolException ex) { ThrowTerminatingError(ErrorMapping.From(ex, options.SpoolPath)); }
            catch (ProxyStartException ex) { ThrowTerminatingError(ErrorMapping.From(ex)); }
            catch (UnauthorizedAccessException ex) { ThrowTerminatingError(ErrorMapping.AccessDenied(ex, options.SpoolPath)); }
            catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadProxyOption(ex)); }
            if (metricsAt != null)
            {
                // Started after the proxy listens, so the first scrape finds it serving; a failure stops it again.
                try { ProxyMetrics.Serve(proxy, metricsAt); }
                catch (MetricsListenException ex)
                {
                    proxy.StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();
                    ThrowTerminatingError(ErrorMapping.From(ex));
                }
            }
            ProxyRegistry.Add(proxy);
            // With -Wait the same warnings arrive as events and Serve writes them.
            if (!Wait)
                foreach (var warning in proxy.RuleWarnings) WriteWarning(warning.ToString());
            WriteObject(proxy);
            if (Wait) Serve(proxy, events);
        }

        /// <summary>What a -Wait shows on the console; the other events go to Verbose.</summary>
        static readonly string[] HostKinds = { "start", "accepted", "stop", "error", "dnsbl" };

        /// <summary>-Wait: serve until Ctrl+C, SIGTERM/SIGINT/SIGQUIT, or Stop-SmtpdProxy (in this
        /// process or, through the control channel, another); each is a graceful stop.</summary>
        void Serve(SmtpProxy proxy, EventQueue events)
        {
            var bound = TimeSpan.FromSeconds(StopTimeoutSeconds);
            ServeUntilStopped(proxy.Completion, events, () => proxy.StopAsync(bound), bound, HostKinds, "proxy");
        }

        // The port is required: a port-less address used to bind 25 silently, which a user testing
        // on a spare port did not mean (issue 12); the message shows the address with ':25'.
        List<IPEndPoint> ParseListen()
        {
            var list = new List<IPEndPoint>();
            foreach (var text in Listen)
            {
                if (!IPText.TryParseEndPoint(text, -1, allowPortZero: true, allowUnspecified: true, out var ep, out var why))
                    ThrowTerminatingError(ErrorMapping.BadListen(text, why));
                list.Add(ep);
            }
            return list;
        }

        TlsOptions LoadCertificate()
        {
            try
            {
                switch (ParameterSetName)
                {
                    case Pfx: return new TlsOptions { Certificate = ServerCertificate.FromPfx(ResolvePath(CertificatePath), CertificatePassword) };
                    case Pem: return new TlsOptions { Certificate = ServerCertificate.FromPem(ResolvePath(CertificatePemPath), ResolvePath(CertificateKeyPath)) };
                    case Store: return new TlsOptions { Certificate = ServerCertificate.FromStore(CertificateThumbprint) };
                    default: return null;
                }
            }
            catch (TlsConfigurationException ex)
            {
                ThrowTerminatingError(ErrorMapping.From(ex));
                return null;
            }
        }
    }
}
