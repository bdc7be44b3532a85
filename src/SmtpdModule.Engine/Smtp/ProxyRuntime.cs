using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What every session of one proxy shares: options, rules, DNS, spool, counters, events, the stop signal.</summary>
    internal sealed class ProxyRuntime
    {
        readonly CancellationTokenSource _stopping = new CancellationTokenSource();
        PolicyPipeline _pipeline;
        readonly RecipientVerifier _verifier;
        readonly GreylistRecorder _greylist;
        readonly RateLimiter _rates;   // for the sessions-at-once count; the pipeline's own counts the rest

        public ProxyRuntime(SmtpProxyOptions options, RulesFile rulesFile, IDnsResolver dns, SpoolWriter spool, IEventSink events)
        {
            Options = options;
            RulesFile = rulesFile;
            Dns = dns;
            Spool = spool;
            Events = events;
            State = options.StateStore ?? OpenStateStore(options, out _stateNote);
            OwnsState = options.StateStore == null;
            _verifier = options.RecipientVerification?.CreateVerifier(State);
            _greylist = new GreylistRecorder(State, options.RuleEvaluation.Greylist,
                                             why => events.Write(new ProxyEvent("state", null, null, why)));
            _pipeline = NewPipeline(rulesFile.Current);
            RemoveHeaders = new HeaderNameMatcher(options.RemoveHeaders);
            AuthServId = options.Spf.AuthServId ?? options.HostName;
            _rates = new RateLimiter(options.RateLimits);
            ProtocolExempt = options.ProtocolTests.ParseExempt();
        }

        /// <summary>The networks that skip the protocol tests.</summary>
        public System.Collections.Generic.IReadOnlyList<Net.NetworkRange> ProtocolExempt { get; }

        /// <summary>The header fields removed from incoming mail (the options' list as it was at start).</summary>
        public HeaderNameMatcher RemoveHeaders { get; }

        /// <summary>The network whose sessions at once are counted for <paramref name="client"/>; null when
        /// the limit is off or the client's network is exempt.</summary>
        public string ConcurrencyNetworkOf(System.Net.IPAddress client)
        {
            return Options.RateLimits.ConnectionsAtOnce == 0 ? null : _rates.NetworkOf(new Net.PeerAddress(client));
        }

        /// <summary>The proxy opened its state store itself, and closes it when it stops.</summary>
        public bool OwnsState { get; }

        /// <summary>Why the proxy keeps its state in memory though it was to keep it on disk; null when it does not.</summary>
        public string StateNote => _stateNote;
        readonly string _stateNote;

        static IStateStore OpenStateStore(SmtpProxyOptions options, out string note)
        {
            note = null;
            if (options.Redis != null) return new RedisStateStore(options.Redis);
            var folder = options.StatePath ?? System.IO.Path.Combine(options.SpoolPath, Engine.Spool.SpoolLayout.ProxyState);
            try
            {
                if (!System.IO.Directory.Exists(folder))
                {
                    System.IO.Directory.CreateDirectory(folder);
                    Engine.Spool.UnixPermissions.Restrict(folder, Engine.Spool.UnixPermissions.PrivateDirectory);   // it holds addresses
                }
                return new FileStateStore(folder);
            }
            catch (StateStoreLockedException) when (options.StatePath == null)
            {
                // Another proxy on the same spool holds the spool's state folder: this one still
                // starts (a spool can take a second proxy), with its state in memory only.
                note = "the state folder " + folder + " is held by another proxy on this spool: this proxy keeps its state in memory until it stops; give it a -StatePath of its own";
                return new MemoryStateStore();
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException || ex is System.IO.InvalidDataException)
            {
                throw new ProxyStartException(ProxyStartFailure.StateStore, folder, ex);
            }
        }

        /// <summary>Closes the state store when the proxy opened it.</summary>
        public void CloseState()
        {
            if (OwnsState) (State as IDisposable)?.Dispose();
        }

        /// <summary>The name the proxy's Authentication-Results fields carry; incoming fields that claim it are removed.</summary>
        public string AuthServId { get; }

        public SmtpProxyOptions Options { get; }
        public RulesFile RulesFile { get; }
        /// <summary>The resolver every session's checks ask (through its facts).</summary>
        public IDnsResolver Dns { get; }
        public SpoolWriter Spool { get; }
        /// <summary>The state every session's checks share (read through its facts, so reads are recorded).</summary>
        public IStateStore State { get; }
        public IEventSink Events { get; }
        /// <summary>The smart host's limits (<see cref="SmtpProxyOptions.SmartHostLimits"/>); null: the proxy's own.</summary>
        public DownstreamLimitsRefresher Downstream => Options.SmartHostLimits;
        public ProxyCounters Counters { get; } = new ProxyCounters();
        /// <summary>The check results of every session, across reloads (for the metrics endpoint).</summary>
        public CheckResultCounter Checks { get; } = new CheckResultCounter();

        /// <summary>Cancelled when the proxy starts stopping: idle sessions answer 421 and close.</summary>
        public CancellationToken Stopping => _stopping.Token;
        public bool IsStopping => _stopping.IsCancellationRequested;
        public void SignalStop() => _stopping.Cancel();

        /// <summary>The policy under the rules in force: the file is re-checked at most once a second.</summary>
        public PolicyPipeline Pipeline
        {
            get
            {
                var current = RulesFile.Current;
                var p = Volatile.Read(ref _pipeline);
                if (!ReferenceEquals(p.Evaluator.RuleSet, current))
                {
                    // One successor per pipeline: its hit counter takes over the old one's rows, and
                    // a second one made meanwhile would count changed lines where nobody reads.
                    var next = NewPipeline(current, p.Hits);
                    var seen = Interlocked.CompareExchange(ref _pipeline, next, p);
                    p = ReferenceEquals(seen, p) ? next : seen;
                }
                return p;
            }
        }

        PolicyPipeline NewPipeline(RuleSet ruleSet, RuleHitCounter previousHits = null) =>
            new PolicyPipeline(new RuleEvaluator(ruleSet, Options.RuleEvaluation), PolicyOptionsFor(Options), _verifier, _greylist)
            {
                Hits = previousHits == null ? new RuleHitCounter(ruleSet) : new RuleHitCounter(ruleSet, previousHits, DateTimeOffset.UtcNow),
                Checks = Checks,
            };

        /// <summary>The RCPT verdicts counted per rule line under the rules in force (reloaded first if the file changed).</summary>
        public RuleHitCounter Hits => Pipeline.Hits;

        /// <summary>The proxy's settings the policy decides with.</summary>
        internal static PolicyOptions PolicyOptionsFor(SmtpProxyOptions o) => new PolicyOptions
        {
            HostName = o.HostName,
            ReverseLookup = o.ReverseLookup,
            ConfirmReverseName = o.ConfirmReverseName,
            StrictAddresses = o.StrictAddresses,
            MaxRecipients = o.Limits.MaxRecipients,
            MaxMessageSize = o.Limits.MaxMessageSize,
            OfferStartTls = o.Tls != null,
            Tarpit = o.Tarpit,
            EnforcedTests = o.ProtocolTests.Enforced,
            RateLimits = o.RateLimits,
            Spf = o.Spf,
        };
    }
}
