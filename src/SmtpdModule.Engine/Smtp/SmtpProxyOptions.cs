using System;
using System.Collections.Generic;
using System.Net;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Verification;
using SmtpdModule.Engine.Smtp.Tls;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>Everything a running proxy is configured with.</summary>
    public sealed class SmtpProxyOptions
    {
        /// <summary>Where to listen. Port 0 picks a free port. Default: port 25 on every IPv4 and IPv6 address.</summary>
        public IList<IPEndPoint> Listen { get; set; } = new List<IPEndPoint> { new IPEndPoint(IPAddress.Any, 25), new IPEndPoint(IPAddress.IPv6Any, 25) };
        public string RulesPath { get; set; }
        public string SpoolPath { get; set; }
        /// <summary>The name in the greeting, EHLO reply and Received: header. Default: the machine's name.</summary>
        public string HostName { get; set; } = Environment.MachineName;
        public SessionLimits Limits { get; set; } = new SessionLimits();
        /// <summary>How the rules decide: the default action, what a failed lookup means, the noto and deny delays.</summary>
        public RuleEvaluationOptions RuleEvaluation { get; set; } = new RuleEvaluationOptions();
        public DnsResolverOptions Dns { get; set; } = new DnsResolverOptions();
        /// <summary>The DNSBL health guard's probes (intervals, failures before a list is unhealthy); null for the defaults.</summary>
        public Policy.DnsblGuardOptions Dnsbl { get; set; } = new Policy.DnsblGuardOptions();
        /// <summary>Where checks keep state across sessions (greylisting, rate limits); null: an embedded store for the proxy's lifetime.</summary>
        public IStateStore StateStore { get; set; }
        /// <summary>A Redis the proxy connects to and owns, shared with the other proxies of the same
        /// MX records (instead of <see cref="StateStore"/>); null: the embedded store.</summary>
        public RedisStateStoreOptions Redis { get; set; }
        /// <summary>The folder of the embedded state store, which survives a restart and a crash (when
        /// neither <see cref="StateStore"/> nor <see cref="Redis"/> is given); null: <c>proxy-state</c>
        /// in the spool.</summary>
        public string StatePath { get; set; }
        /// <summary>Recipient verification for the recipients the rules allow (none by default).</summary>
        public RecipientVerificationOptions RecipientVerification { get; set; } = new RecipientVerificationOptions();
        /// <summary>The limits of the real mail server (the forwarder's smart host), kept fresh: each
        /// session's EHLO announces no larger a SIZE than its own, and SMTPUTF8 only when it takes
        /// it, so what it would refuse is refused here instead of bounced later. Null (the default):
        /// the proxy's own limits. The proxy starts its first probe at start and disposes it when it
        /// stops.</summary>
        public DownstreamLimitsRefresher SmartHostLimits { get; set; }
        /// <summary>Count a reverse name only when it resolves back to the peer (default), or trust the PTR as the original did.</summary>
        public bool ConfirmReverseName { get; set; } = true;
        /// <summary>Look up the peer's reverse name at all (the original's -H turned this off).</summary>
        public bool ReverseLookup { get; set; } = true;
        /// <summary>How long an ident (RFC 1413) query may take; zero never asks.</summary>
        public TimeSpan IdentTimeout { get; set; } = TimeSpan.FromSeconds(10);
        /// <summary>Refuse source routes, %-hacks, bang paths and quoted '@' with 553 before the rules see them.</summary>
        public bool StrictAddresses { get; set; } = true;
        /// <summary>Added before every refusal (noto, deny, address refusals): slows harvesters, costs no thread.</summary>
        public TimeSpan Tarpit { get; set; } = TimeSpan.Zero;
        public int MaxSessions { get; set; } = 4000;
        public int MaxSessionsPerClient { get; set; } = 20;
        /// <summary>Below this many free bytes in the spool, MAIL is answered 452 4.3.1.</summary>
        public long MinFreeSpoolBytes { get; set; } = 64L * 1024 * 1024;
        public TlsOptions Tls { get; set; }
        /// <summary>The protocol tests inside the session (pregreet, pipelining, non-SMTP, bare newline) and their actions.</summary>
        public ProtocolTestOptions ProtocolTests { get; set; } = new ProtocolTestOptions();
        /// <summary>Connections and recipients per minute per client network and per proven sender.</summary>
        public Policy.RateLimitOptions RateLimits { get; set; } = new Policy.RateLimitOptions();
        /// <summary>When SPF is checked, its time bound, and the authserv-id of Authentication-Results.</summary>
        public Spf.SpfOptions Spf { get; set; } = new Spf.SpfOptions();
        /// <summary>How long Stop waits for transactions in flight before closing them.</summary>
        public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(30);
        /// <summary>Structured log (JSON lines); null for none.</summary>
        public string LogPath { get; set; }
        /// <summary>When the log at <see cref="LogPath"/> rotates and how many old files are kept.</summary>
        public Diagnostics.LogRotationOptions LogRotation { get; set; } = new Diagnostics.LogRotationOptions();
        /// <summary>Serve a control endpoint in the spool's <c>control/</c> folder, through which
        /// another process on this machine can see and stop the proxy (see <see cref="Control.ControlEndpoint"/>).</summary>
        public bool ControlChannel { get; set; } = true;
        /// <summary>Start even when other users may change the rules file (or its directory) or the
        /// spool. Off by default: such a proxy refuses to start (<see cref="ProxyStartFailure.RulesFileInsecure"/>,
        /// <see cref="ProxyStartFailure.SpoolInsecure"/>).</summary>
        public bool AllowInsecurePermissions { get; set; }
        /// <summary>What a lone CR or LF in message text gets: stored as CRLF (default) or the
        /// message refused with 550 5.5.2. Either way it never ends the text.</summary>
        public BareLineEndingPolicy BareLineEnding { get; set; } = BareLineEndingPolicy.Normalize;
        /// <summary>Header fields removed from incoming mail before it is spooled, by name, with
        /// '*' and '?' wildcards, without regard to case. Default: <see cref="DefaultRemoveHeaders"/>;
        /// empty removes nothing.</summary>
        public IList<string> RemoveHeaders { get; set; } = new List<string>(DefaultRemoveHeaders);

        /// <summary>
        /// Fields that Exchange believes only from inside its organisation. Exchange's own header
        /// firewall removes X-MS-Exchange-Organization-* and X-MS-Exchange-Forest-* from untrusted
        /// senders, but a connector that treats the proxy as internal (or as a hybrid partner)
        /// skips it: the spam confidence level, the authentication verdict and more would be
        /// taken from the sender. X-MS-Exchange-CrossPremises-* is promoted to Organization
        /// fields on hybrid connectors; X-MS-Exchange-CrossTenant-* tells Exchange Online
        /// whether a message is internal to a tenant. Mail from another Microsoft 365 tenant
        /// carries the last two as trace; removing them loses only that trace.
        /// </summary>
        public static readonly IReadOnlyList<string> DefaultRemoveHeaders = new[]
        {
            "X-MS-Exchange-Organization-*",
            "X-MS-Exchange-Forest-*",
            "X-MS-Exchange-CrossPremises-*",
            "X-MS-Exchange-CrossTenant-*",
        };

        /// <summary>The name goes into every greeting and Received: header: a domain or an address literal, nothing else.</summary>
        static bool IsHostName(string name)
        {
            if (string.IsNullOrEmpty(name) || name.Length > 255) return false;
            if (name[0] == '[') return name[name.Length - 1] == ']' && IPAddress.TryParse(name.Substring(1, name.Length - 2).Replace("IPv6:", ""), out _);
            foreach (var label in name.Split('.'))
            {
                if (label.Length == 0 || label.Length > 63 || label[0] == '-' || label[label.Length - 1] == '-') return false;
                foreach (var c in label)
                    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
            }
            return true;
        }

        internal void Validate()
        {
            if (string.IsNullOrEmpty(RulesPath)) throw new ArgumentException("A rules file is required.", nameof(RulesPath));
            if (string.IsNullOrEmpty(SpoolPath)) throw new ArgumentException("A spool directory is required.", nameof(SpoolPath));
            if (Listen == null || Listen.Count == 0) throw new ArgumentException("At least one listen end point is required.", nameof(Listen));
            if (!IsHostName(HostName))
                throw new ArgumentException("'" + HostName + "' is not a host name: letters, digits, '-' and '.', or an address literal such as [192.0.2.1].", nameof(HostName));
            if (MaxSessions < 1) throw new ArgumentOutOfRangeException(nameof(MaxSessions), "must be positive");
            if (MaxSessionsPerClient < 1) throw new ArgumentOutOfRangeException(nameof(MaxSessionsPerClient), "must be positive");
            if (!Enum.IsDefined(typeof(BareLineEndingPolicy), BareLineEnding))
                throw new ArgumentOutOfRangeException(nameof(BareLineEnding), "must be Normalize or Reject");
            if (RemoveHeaders != null)
                foreach (var p in RemoveHeaders)
                    if (!HeaderNameMatcher.IsValidPattern(p))
                        throw new ArgumentException("'" + p + "' is not a header field name: printable ASCII without ':' or spaces, '*' and '?' as wildcards.", nameof(RemoveHeaders));
            Limits.Validate();
            (LogRotation ?? throw new ArgumentNullException(nameof(LogRotation))).Validate();
            (ProtocolTests ?? throw new ArgumentNullException(nameof(ProtocolTests))).Validate();
            Dnsbl?.Validate();
            (Spf ?? throw new ArgumentNullException(nameof(Spf))).Validate();
            if ((StateStore != null ? 1 : 0) + (Redis != null ? 1 : 0) + (StatePath != null ? 1 : 0) > 1)
                throw new ArgumentException("Give one place for the state: a state store, a Redis to connect to, or a folder.", nameof(Redis));
            Redis?.Validate();
            (RateLimits ?? throw new ArgumentNullException(nameof(RateLimits))).Validate();
            (RuleEvaluation?.Greylist ?? throw new ArgumentNullException(nameof(RuleEvaluation))).Validate();
        }
    }
}
