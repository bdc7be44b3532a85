using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Plays a whole transaction (connect, EHLO, MAIL, each RCPT) through the proxy's own decision
    /// path without a network peer: the same command parser, the same session state table and the
    /// same <see cref="PolicyPipeline"/> the proxy's session calls, so what it says is what the
    /// proxy answers (Test-SmtpdRule; reference §8, §9 "a rule tester").
    /// </summary>
    /// <remarks>
    /// Each request is a fresh session (fresh caches). DNS is asked only when something needs it; the
    /// resolver is built on that first question, so rules that need no DNS never touch a server. Ident
    /// answers come from the request, never from the network. Not thread-safe: one request at a time.
    /// </remarks>
    public sealed class RuleTester : IDisposable
    {
        readonly RuleEvaluator _evaluator;
        readonly LazyResolver _dns;
        readonly IStateStore _state;
        readonly RecipientVerifier _verifier;
        readonly RecipientVerificationOptions _verification;
        IReadOnlyList<DnsblProbeResult> _dnsblZones;
        // The proxy's default limits: the tester answers as a proxy started without limit parameters.
        static readonly SessionLimits Limits = new SessionLimits();

        /// <param name="ruleSet">The compiled rules.</param>
        /// <param name="options">Default action and delays; null for the defaults.</param>
        /// <param name="dnsOptions">The DNS servers to ask; null or no servers means the system's.</param>
        /// <param name="state">The state checks read (a running proxy's shared store); null for an empty one of the tester's own.</param>
        /// <param name="verification">Recipient verification as the proxy has it; null for none.</param>
        /// <exception cref="ArgumentNullException"><paramref name="ruleSet"/> is null.</exception>
        public RuleTester(RuleSet ruleSet, RuleEvaluationOptions options = null, DnsResolverOptions dnsOptions = null, IStateStore state = null,
                          RecipientVerificationOptions verification = null)
        {
            if (ruleSet == null) throw new ArgumentNullException(nameof(ruleSet));
            _evaluator = new RuleEvaluator(ruleSet, options);
            _dns = new LazyResolver(dnsOptions ?? new DnsResolverOptions());
            _state = state ?? new MemoryStateStore();
            _verifier = verification?.CreateVerifier(_state);
            _verification = verification;
        }

        public RuleSet RuleSet => _evaluator.RuleSet;
        public RuleEvaluationOptions Options => _evaluator.Options;
        /// <summary>The DNSBL zones of the rules as the first request's probe found them; null before it.</summary>
        public IReadOnlyList<DnsblProbeResult> DnsblZoneHealth => _dnsblZones;

        /// <summary>Evaluates every recipient of <paramref name="request"/> in order.</summary>
        /// <returns>One decision per recipient, in the order given.</returns>
        public async Task<IReadOnlyList<RuleDecision>> TestAsync(RuleTestRequest request, CancellationToken cancellationToken = default) =>
            (await RunAsync(request, cancellationToken).ConfigureAwait(false)).Decisions;

        /// <summary>Plays the transaction of <paramref name="request"/>: every stage's verdict, and one decision per recipient.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="request"/>, its address, or a recipient is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="request"/> has no recipients.</exception>
        /// <exception cref="ObjectDisposedException">The tester was disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<TransactionTest> RunAsync(RuleTestRequest request, CancellationToken cancellationToken = default)
        {
            Validate(request);
            // The DNSBL health guard, once per tester: a zone the proxy would find unhealthy matches nothing here too.
            if (_dnsblZones == null)
                _dnsblZones = await DnsblGuard.ProbeOnceAsync(_dns, _state, DnsblZones.Of(RuleSet), TimeSpan.FromMinutes(15), cancellationToken).ConfigureAwait(false);
            var pipeline = new PolicyPipeline(_evaluator, new PolicyOptions
            {
                HostName = request.HostName,
                ReverseLookup = request.ClientName == null,
                ConfirmReverseName = request.ConfirmReverseName,
                StrictAddresses = request.StrictAddresses,
                MaxRecipients = Limits.MaxRecipients,
            }, _verifier);
            var ident = string.IsNullOrEmpty(request.Ident) ? null : request.Ident;
            var play = new Play(new PolicySession(request.ClientAddress, new LiveFacts(_dns, new FixedIdentSource(ident), _state)));
            if (request.ClientName != null) play.Known.SetClientName(PeerText.CleanName(request.ClientName), null, false);
            play.Known.UseDownstream(request.SmartHostLimits);
            play.Known.Failed(request.FailedTests);

            var connect = await pipeline.AdmitAsync(play.Known, cancellationToken).ConfigureAwait(false)
                          ?? await pipeline.ConnectAsync(play.Known, cancellationToken).ConfigureAwait(false);
            play.Add(null, connect);
            var helo = string.IsNullOrEmpty(request.Helo) ? AddressLiteral(play.Known.Client) : request.Helo;
            await play.StepAsync(PolicyStage.Helo, "EHLO " + helo, cmd =>
            {
                var clean = PeerText.CleanName(cmd.Argument);
                var v = pipeline.Helo(play.Known, clean, esmtp: true);
                play.Known.Greeted(clean, esmtp: true);
                return Task.FromResult(v);
            }).ConfigureAwait(false);

            var from = string.IsNullOrEmpty(request.From) ? "<>" : request.From;
            // A client with a non-ASCII address says SMTPUTF8 (RFC 6531 §3.4), as MailKit and smtplib do.
            var utf8 = request.To.Concat(new[] { from }).Any(a => a.Any(c => c > 0x7E));
            var mail = await play.StepAsync(PolicyStage.Mail, "MAIL FROM:" + from + (utf8 ? " SMTPUTF8" : ""), cmd =>
            {
                var v = pipeline.Mail(play.Known, cmd.PathText, cmd.SmtpUtf8, cmd.DeclaredSize);
                if (v.TakesEffect) pipeline.BeginTransaction(play.Known, v.Path, cmd.SmtpUtf8, cmd.DeclaredSize, cancellationToken);
                return Task.FromResult(v);
            }).ConfigureAwait(false);

            var decisions = new List<RuleDecision>(request.To.Count);
            foreach (var to in request.To)
            {
                var line = "RCPT TO:" + to;
                var input = play.Known.RuleInputFor(to, from);
                if (mail == null || !mail.Verdict.TakesEffect)
                {
                    // The proxy never asks the rules about a transaction whose MAIL it refused.
                    decisions.Add(RuleDecision.AddressRefused(input, mail?.Replies.FirstOrDefault(), "MAIL", RuleSet.Path));
                    await play.StepAsync(PolicyStage.Rcpt, line, cmd => throw new InvalidOperationException("RCPT accepted without MAIL")).ConfigureAwait(false);
                    continue;
                }
                if (play.Closed)
                {
                    // What the rules would say had the session been open: the proxy never hears this RCPT.
                    var path = CommandParser.TryParse(line, out var parsed, out _) ? parsed.PathText : to;
                    var v = await pipeline.RcptAsync(play.Known, path, request.Explain, cancellationToken).ConfigureAwait(false);
                    var unreached = v.Decision ?? RuleDecision.AddressRefused(input, v.Replies.FirstOrDefault(), "RCPT", RuleSet.Path);
                    unreached.Reached = false;
                    decisions.Add(unreached);
                    continue;
                }
                var step = await play.StepAsync(PolicyStage.Rcpt, line, async cmd =>
                {
                    var v = await pipeline.RcptAsync(play.Known, cmd.PathText, request.Explain, cancellationToken).ConfigureAwait(false);
                    if (v.TakesEffect) play.Known.AddRecipient(v.Path);
                    return v;
                }).ConfigureAwait(false);
                decisions.Add(step.Decision ?? RuleDecision.AddressRefused(input, step.Replies.FirstOrDefault(), "RCPT", RuleSet.Path));
            }
            return new TransactionTest(play.Stages, decisions, connect.Reason);
        }

        static string AddressLiteral(PeerAddress peer) =>
            peer.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "[IPv6:" + peer.Text + "]" : "[" + peer.Text + "]";

        void Validate(RuleTestRequest request)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (request.ClientAddress == null) throw new ArgumentNullException(nameof(request), "The request has no client address.");
            if (request.To == null || request.To.Count == 0) throw new ArgumentException("The request has no recipients.", nameof(request));
            foreach (var to in request.To)
                if (to == null) throw new ArgumentNullException(nameof(request), "A recipient is null.");
            if (_dns.IsDisposed) throw new ObjectDisposedException(nameof(RuleTester));
        }

        /// <summary>Releases the DNS client, if one was built.</summary>
        public void Dispose()
        {
            _dns.Dispose();
            _verification?.DisposeSources();
        }

        /// <summary>The session as the proxy would hold it: its state, its error count, whether it is closed.</summary>
        sealed class Play
        {
            readonly SessionStateTable _table = SessionStateTable.For(tlsOffered: false);
            SessionState _state = SessionState.Connected;
            int _errors;

            public Play(PolicySession known) { Known = known; }

            public PolicySession Known { get; }
            public List<StageVerdict> Stages { get; } = new List<StageVerdict>();
            public bool Closed { get; private set; }

            public void Add(string command, Verdict verdict)
            {
                Stages.Add(new StageVerdict(command, verdict));
                if (verdict.Kind == VerdictKind.Close) Closed = true;
            }

            /// <summary>One command as the proxy's session takes it: parse, sequence, then the stage. Null once closed.</summary>
            public async Task<StageVerdict> StepAsync(PolicyStage stage, string line, Func<SmtpCommand, Task<Verdict>> handle)
            {
                if (Closed) return null;
                Verdict verdict;
                // The proxy's connection skips a line longer than its limit (CRLF included) unread.
                if (Encoding.UTF8.GetByteCount(line) + 2 > Limits.MaxCommandLine)
                    verdict = Error(stage, Replies.LineTooLong.ToString());
                else if (!CommandParser.TryParse(line, out var cmd, out var error))
                    verdict = Error(stage, error.ToString());
                else
                {
                    var step = _table.Lookup(_state, cmd.Verb);
                    if (!step.Accepted) verdict = Error(stage, step.Refusal.ToString());
                    else
                    {
                        verdict = await handle(cmd).ConfigureAwait(false);
                        if (verdict.IsClientError) verdict = Error(stage, verdict.Replies[0], verdict);
                        else if (verdict.TakesEffect) _state = step.Next;
                    }
                }
                Add(line, verdict);
                return Stages[Stages.Count - 1];
            }

            /// <summary>A client error: counted, and past the limit the session ends, as in the proxy.</summary>
            Verdict Error(PolicyStage stage, string reply, Verdict original = null)
            {
                if (++_errors > Limits.MaxErrors)
                    return Verdict.Of(stage, VerdictKind.Close, Replies.TooManyErrors, "too many errors");
                return original ?? new Verdict(stage, VerdictKind.Reject, new[] { reply }, "refused by the command parser or the session state", clientError: true);
            }
        }
    }
}
