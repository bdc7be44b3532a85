using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spf;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The one decision path: per stage, a function from what is known about the session to a
    /// verdict. The proxy's session, Test-SmtpdRule and a replay call these and nothing else, so
    /// they cannot disagree. A stage does not change the session: its caller applies a verdict
    /// that took effect (<see cref="PolicySession.BeginTransaction"/> and the like), after its own
    /// resource checks (spool space, declared size), which are not policy.
    /// </summary>
    public sealed class PolicyPipeline
    {
        readonly PolicyOptions _options;

        readonly RecipientVerifier _verifier;
        readonly GreylistRecorder _greylist;
        readonly RateLimiter _rates;
        // The EHLO reply's lines after the first, made once for the proxy's own limits, and once
        // more whenever the downstream's limits call for others (they change only when it is
        // probed again): a session never builds them.
        readonly EhloExtensions _ownExtensions;
        readonly string[] _lineReasons;
        EhloExtensions _downstreamExtensions;

        /// <param name="evaluator">The rules in force.</param>
        /// <param name="options">The proxy's settings that change a verdict; null for the defaults.</param>
        /// <param name="verifier">Asked for each recipient the rules allow; null: no recipient verification.</param>
        /// <param name="greylist">Writes what grey lines leave behind (the proxy's); null: nothing is written
        /// (Test-SmtpdRule, a replay), the lines still decide from what the state store holds.</param>
        public PolicyPipeline(RuleEvaluator evaluator, PolicyOptions options = null, RecipientVerifier verifier = null, GreylistRecorder greylist = null)
        {
            _verifier = verifier;
            _greylist = greylist;
            Evaluator = evaluator ?? throw new ArgumentNullException(nameof(evaluator));
            _options = options?.Clone() ?? new PolicyOptions();
            _rates = new RateLimiter(_options.RateLimits);
            Greeting = new SmtpReply(220, null, _options.HostName + " ESMTP SmtpdModule ready");
            _ownExtensions = EhloExtensions.For(_options.MaxMessageSize, smtpUtf8: true, _options.OfferStartTls);
            TestsNamedByRules = ProtocolTestNames.NamedBy(evaluator.RuleSet);
            _lineReasons = LineReasons(evaluator.RuleSet);
            // grey lines key a sender whose SPF passes by its domain.
            ChecksSpf = _options.Spf.Mode == SpfCheckMode.Always || SpfTokens.NamedBy(evaluator.RuleSet) || HasGreyLines(evaluator.RuleSet);
        }

        static bool HasGreyLines(RuleSet rules)
        {
            foreach (var rule in rules.Rules)
                if (rule.Verb == RuleVerb.Grey) return true;
            return false;
        }

        /// <summary>Each transaction's sender is checked with SPF: always, or because a rule tests <c>SPF=</c>.</summary>
        public bool ChecksSpf { get; }

        /// <summary>The protocol tests some rule line tests with <c>FAILED=</c>: the session must run them
        /// even when their action is Ignore, or the rules would see every client as passing.</summary>
        public ProtocolTests TestsNamedByRules { get; }

        /// <summary>The rules in force.</summary>
        public RuleEvaluator Evaluator { get; }

        /// <summary>Where a proxy counts the RCPT verdicts made under these rules; null elsewhere
        /// (Test-SmtpdRule, a replay). Set before the pipeline is shared.</summary>
        internal RuleHitCounter Hits { get; set; }
        /// <summary>Where a proxy counts its check results (SPF, grey lines, recipient verification); null
        /// elsewhere. One for the proxy's life, handed from pipeline to pipeline across reloads.</summary>
        internal CheckResultCounter Checks { get; set; }
        public PolicyOptions Options => _options.Clone();

        /// <summary>The client connected, before anything is written to it: null to go on, or a refusal
        /// (421, the session closes) when its network opened too many connections this minute. A
        /// flood is turned away before it costs a lookup or a greeting.</summary>
        public Task<Verdict> AdmitAsync(PolicySession session, CancellationToken cancellationToken = default) =>
            _rates.ConnectAsync(session, cancellationToken);

        /// <summary>The client connected: its reverse name is looked up (reference §4.1), and the greeting follows.</summary>
        public async Task<Verdict> ConnectAsync(PolicySession session, CancellationToken cancellationToken = default)
        {
            if (!_options.ReverseLookup) return Verdict.Of(PolicyStage.Connect, VerdictKind.Continue, Greeting, null);
            var reverse = await session.Lookups.ReverseNameOfAsync(session.Client, _options.ConfirmReverseName, cancellationToken).ConfigureAwait(false);
            session.SetClientName(reverse.Name, reverse.Note, reverse.Outcome == LookupOutcome.Failed);
            session.Results["reverse"] = ReverseReason.OutcomeName(reverse.Outcome);
            // Written when read (the session log, Test-SmtpdRule): a replay never reads it.
            return new Verdict(PolicyStage.Connect, VerdictKind.Continue, Greeting.Lines,
                               new ReverseReason(session.Client.Text, _options.ConfirmReverseName, reverse));
        }

        /// <summary>The greeting line (220).</summary>
        public SmtpReply Greeting { get; }

        /// <summary>
        /// HELO or EHLO; the argument arrives cleaned. Nothing is refused here yet. The EHLO reply
        /// lists the extensions (RFC 5321 §4.1.1.1), so its every line is the verdict's, and
        /// Test-SmtpdRule shows what a client reads.
        /// </summary>
        public Verdict Helo(PolicySession session, string helo, bool esmtp)
        {
            if (!esmtp) return new Verdict(PolicyStage.Helo, VerdictKind.Continue, new HeloReply(_options.HostName, helo, session.Client.Text, null), null);
            // STARTTLS once: RFC 3207 §4.2 forbids offering it on a secured session.
            var set = ExtensionsFor(session);
            var extensions = session.Tls ? set.Plain : set.WithStartTls;
            return new Verdict(PolicyStage.Helo, VerdictKind.Continue, new HeloReply(_options.HostName, helo, session.Client.Text, extensions), null);
        }

        /// <summary>The largest message <paramref name="session"/> may send: the proxy's own limit,
        /// or the downstream's SIZE when that is smaller, so what the real server would refuse for
        /// its size is refused here, at the door, and never bounced later. EHLO announces it, MAIL
        /// checks a declared SIZE against it, and DATA enforces it.</summary>
        public long MaxMessageSize(PolicySession session) => session.Downstream.CapSize(_options.MaxMessageSize);

        /// <summary>SMTPUTF8 is offered to <paramref name="session"/>: unless the downstream is known
        /// not to take it (limits not known: the proxy's own default, offered).</summary>
        public static bool OffersSmtpUtf8(PolicySession session) => !session.Downstream.IsKnown || session.Downstream.SmtpUtf8;

        EhloExtensions ExtensionsFor(PolicySession session)
        {
            var size = MaxMessageSize(session);
            var utf8 = OffersSmtpUtf8(session);
            if (_ownExtensions.Fits(size, utf8)) return _ownExtensions;
            var latest = Volatile.Read(ref _downstreamExtensions);
            if (latest != null && latest.Fits(size, utf8)) return latest;
            latest = EhloExtensions.For(size, utf8, _options.OfferStartTls);
            Volatile.Write(ref _downstreamExtensions, latest);
            return latest;
        }

        /// <summary>MAIL FROM: the SMTPUTF8 parameter against what EHLO offered, the sender's
        /// address check (reference §7), then the size the client declared (RFC 1870) against the
        /// size EHLO announced; null when none was declared.</summary>
        public Verdict Mail(PolicySession session, string pathText, bool smtpUtf8, long? declaredSize = null)
        {
            // Not offered, so not recognised: a parameter of an extension the server did not
            // announce gets 555 5.5.4, as an unknown one does (RFC 5321 §4.1.1.11; the parser
            // answers other unknown parameters so). Not 553 5.6.7: RFC 6531 §3.5 gives that to a server that does offer SMTPUTF8,
            // for a non-ASCII address sent without it, and a client that tries again without the
            // parameter gets exactly that from the address check below.
            if (smtpUtf8 && !OffersSmtpUtf8(session))
                return new Verdict(PolicyStage.Mail, VerdictKind.Reject, new[] { Replies.BadParameter.ToString() },
                                   "SMTPUTF8 not offered: the downstream does not take it (" + session.Downstream.Detail + ")", clientError: true)
                       { DependsOnLimits = true };
            var problem = MailPath.TryParse(pathText, allowNull: true, strict: _options.StrictAddresses, smtpUtf8: smtpUtf8, out var path);
            if (problem != MailPath.Problem.None)
                return AddressRefusal(PolicyStage.Mail, problem, Replies.BadSenderSyntax);
            var limit = MaxMessageSize(session);
            if (declaredSize > limit)
                return new Verdict(PolicyStage.Mail, VerdictKind.Reject, new[] { Replies.DeclaredSizeTooBig.ToString() },
                                   "declared size " + declaredSize + " over the limit " + limit
                                   + (limit < _options.MaxMessageSize ? " (the downstream's SIZE, " + session.Downstream.Detail + ")" : ""),
                                   path: path, clientError: true) { DependsOnLimits = true };
            return Verdict.Of(PolicyStage.Mail, VerdictKind.Continue, Replies.SenderOk, null, path: path);
        }

        /// <summary>MAIL took effect: the transaction opens, and its SPF check starts now, so its DNS
        /// questions overlap the client's RCPT round trips. The check runs on its own within its time
        /// bound; <paramref name="cancellationToken"/> (the session's) stops it when the session ends.</summary>
        public void BeginTransaction(PolicySession session, MailPath sender, bool smtpUtf8, long? declaredSize, CancellationToken cancellationToken = default)
        {
            session.BeginTransaction(sender, smtpUtf8, declaredSize);
            if (ChecksSpf) StartSpf(session, sender, cancellationToken);
        }

        // A method of its own: the closure is made only when SPF is checked, not on every MAIL.
        void StartSpf(PolicySession session, MailPath sender, CancellationToken cancellationToken)
        {
            var helo = session.Helo ?? "";
            session.UseSpf(helo + "\n" + sender.Mailbox, () => CheckSpfAsync(session.Facts, session.Client.Address, helo, sender.Mailbox, cancellationToken));
        }

        async Task<SpfCheckResult> CheckSpfAsync(IDnsResolver dns, System.Net.IPAddress client, string helo, string sender, CancellationToken cancellationToken)
        {
            var bound = _options.Spf.Timeout;
            using (var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var check = new SpfEvaluator(dns, _options.HostName).CheckMailFromAsync(client, helo, sender, stop.Token);
                // The bound holds even if a lookup does not heed cancellation. A check that ended at
                // once (cached or recorded answers) needs no timer.
                var first = check.IsCompleted ? check : await Task.WhenAny(check, Task.Delay(bound, stop.Token)).ConfigureAwait(false);
                stop.Cancel();
                if (first == check && check.Status == TaskStatus.RanToCompletion) return check.Result;
                cancellationToken.ThrowIfCancellationRequested();
                if (first == check && check.IsFaulted)
                    return SpfCheckResult.Failed(sender, check.Exception.GetBaseException().Message);
                return SpfCheckResult.TimedOut(sender, null, bound);
            }
        }

        /// <summary>The open transaction's SPF result, for the message's headers: waited for within the
        /// check's bound; null when SPF is not checked. Noted in the session's results.</summary>
        public async Task<SpfCheckResult> SpfResultAsync(PolicySession session)
        {
            if (session.Spf == null) return null;
            var result = await session.Spf.ConfigureAwait(false);
            session.Results["spf"] = result.ToString();
            return result;
        }

        /// <summary>
        /// RCPT TO: the recipient limit, the address check (reference §7), then the rules
        /// (reference §1.7, §1.8). A deny closes the session; a lookup failure defers.
        /// </summary>
        public Task<Verdict> RcptAsync(PolicySession session, string pathText, bool explain = false, CancellationToken cancellationToken = default)
        {
            // What one recipient's checks found is that recipient's: without this, the next recipient's
            // record (and a report counting it) showed the last one's greylisting and verification.
            session.Results.Remove("grey");
            session.Results.Remove("verify");
            var decided = DecideRcptAsync(session, pathText, explain, cancellationToken);
            // Decided at once, with no grey line to record: the decision's own task is the answer.
            if (decided.Status == TaskStatus.RanToCompletion && (decided.Result.Decision?.Greylist == null || _greylist == null))
            {
                NoteGrey(session, decided.Result);
                return decided;
            }
            return RecordGreyAsync(session, decided, cancellationToken);
        }

        async Task<Verdict> RecordGreyAsync(PolicySession session, Task<Verdict> decided, CancellationToken cancellationToken)
        {
            var verdict = await decided.ConfigureAwait(false);
            var grey = NoteGrey(session, verdict);
            if (grey != null && _greylist != null)
                await _greylist.RecordAsync(grey, verdict.Kind == VerdictKind.Continue, cancellationToken).ConfigureAwait(false);
            return verdict;
        }

        static GreylistCheck NoteGrey(PolicySession session, Verdict verdict)
        {
            var grey = verdict.Decision?.Greylist;
            if (grey != null) session.Results["grey"] = grey.State + " " + grey.Identity;
            return grey;
        }

        async Task<Verdict> DecideRcptAsync(PolicySession session, string pathText, bool explain, CancellationToken cancellationToken)
        {
            if (session.Sender == null) throw new InvalidOperationException("RCPT outside a transaction");
            if (session.Recipients.Count >= _options.MaxRecipients)
                return Verdict.Of(PolicyStage.Rcpt, VerdictKind.TempFail, Replies.TooManyRecipients, "too many recipients");

            var problem = MailPath.TryParse(pathText, allowNull: false, strict: _options.StrictAddresses, smtpUtf8: session.SmtpUtf8, out var path);
            if (problem == MailPath.Problem.Syntax && pathText == "<>")
                return Verdict.Of(PolicyStage.Rcpt, VerdictKind.Reject, Replies.NullRecipient, "null recipient", clientError: true);
            if (problem != MailPath.Problem.None)
            {
                var refusal = AddressRefusal(PolicyStage.Rcpt, problem, Replies.BadRecipientSyntax);
                var decision = RuleDecision.AddressRefused(session.RuleInputFor(pathText), refusal.Replies[0], "RCPT", Evaluator.RuleSet.Path);
                return new Verdict(PolicyStage.Rcpt, refusal.Kind, refusal.Replies, refusal.Reason, refusal.Delay, decision, null, refusal.IsClientError)
                       { CountsAsRefusal = refusal.CountsAsRefusal };
            }

            var limited = await _rates.RcptAsync(session, cancellationToken).ConfigureAwait(false);
            if (limited != null) return limited;

            RuleDecision d;
            try
            {
                d = await Evaluator.EvaluateAsync(session.RuleInputFor(path), session.RuleCache, explain, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                var fault = "rule check failed: " + ex.GetType().Name + ": " + ex.Message;
                var v = Verdict.Of(PolicyStage.Rcpt, VerdictKind.TempFail, Replies.RulesUnavailable, fault);
                v.Fault = fault;
                return v;
            }
            if (session.Spf != null && session.Spf.Status == TaskStatus.RanToCompletion) session.Results["spf"] = session.Spf.Result.ToString();
            var verdict = FromDecision(d, path);
            var enforced = EnforcedFailures(session, d);
            if (enforced != ProtocolTests.None)
                return new Verdict(PolicyStage.Rcpt, VerdictKind.Close, new[] { ProtocolError(enforced) },
                                   "protocol test failed: " + ProtocolTestNames.Describe(enforced) + " (action Enforce)", _options.Tarpit, d)
                       { ByProtocolTest = true };
            if (_verifier == null) return verdict;
            // RCPT TO:<Postmaster> (no domain) must always be accepted (RFC 5321 §4.5.1): no source is asked.
            var notAsked = verdict.Kind != VerdictKind.Continue ? "the rules did not allow the recipient"
                         : path.Mailbox.IndexOf('@') < 0 ? "a local postmaster, always accepted (RFC 5321 4.5.1)"
                         : null;
            if (notAsked == null) return await VerifyAsync(session, verdict, path, cancellationToken).ConfigureAwait(false);
            return explain && verdict.Decision != null ? WithDecision(verdict, verdict.Decision.VerificationNotAsked(notAsked)) : verdict;
        }

        /// <summary>The failed tests whose action is Enforce, less those the deciding line named: a line
        /// that tests FAILED=pregreet has decided what a pregreeter gets, and it stands.</summary>
        ProtocolTests EnforcedFailures(PolicySession session, RuleDecision d)
        {
            var failed = session.FailedTests & _options.EnforcedTests;
            if (failed == ProtocolTests.None || d.LineNumber == null) return failed;
            foreach (var rule in Evaluator.RuleSet.Rules)
                if (rule.LineNumber == d.LineNumber) return failed & ~ProtocolTestNames.NamedBy(rule.Source);
            return failed;
        }

        /// <summary>The reply of an enforced protocol test: 521 (RFC 7504), as postscreen's drop sends,
        /// and the session closes; it names the test, so a sender's admin sees what to fix.</summary>
        public static string ProtocolError(ProtocolTests failed) =>
            new SmtpReply(521, "5.5.1", "Protocol error: " + ProtocolTestNames.Describe(failed)).ToString();

        static Verdict WithDecision(Verdict v, RuleDecision decision) =>
            new Verdict(v.Stage, v.Kind, v.Replies, v.Reason, v.Delay, decision, v.Path, v.IsClientError)
            { CountsAsRefusal = v.CountsAsRefusal, Fault = v.Fault };

        /// <summary>The mailbox behind an allowed recipient must exist downstream, or the proxy would
        /// accept mail that bounces to a forged sender (backscatter).</summary>
        async Task<Verdict> VerifyAsync(PolicySession session, Verdict allowed, MailPath path, CancellationToken cancellationToken)
        {
            var answer = await _verifier.VerifyAsync(path.Mailbox, session.Facts.ReadStateAsync, cancellationToken).ConfigureAwait(false);
            var said = answer.ToString();
            session.Results["verify"] = said;
            Checks?.CountVerification(answer.Status);
            switch (answer.Status)
            {
                case MailboxStatus.Known:
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.Continue, allowed.Replies, allowed.Reason + ", verified by " + said,
                                       decision: allowed.Decision.Verified(said), path: path);
                case MailboxStatus.Unknown:
                    var unknown = Replies.UnknownUser.ToString();
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.Reject, new[] { unknown }, "unknown user: " + said, _options.Tarpit,
                                       allowed.Decision.Verified(said, RuleAction.Noto, unknown)) { CountsAsRefusal = true };
                default:
                    if (_verifier.FailMode == VerificationFailMode.Accept)
                        return new Verdict(PolicyStage.Rcpt, VerdictKind.Continue, allowed.Replies, allowed.Reason + ", unverified (fail mode Accept): " + said,
                                           decision: allowed.Decision.Verified(said), path: path);
                    var unavailable = Replies.VerificationUnavailable.ToString();
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.TempFail, new[] { unavailable }, "verification unavailable: " + said,
                                       decision: allowed.Decision.Verified(said, RuleAction.Defer, unavailable)) { CountsAsRefusal = true };
            }
        }

        /// <summary>The end of the message text, before the spool commit: no check refuses here yet.</summary>
        public Verdict EndOfData(PolicySession session) => new Verdict(PolicyStage.Data, VerdictKind.Continue, null, null);

        Verdict FromDecision(RuleDecision d, MailPath path)
        {
            var reason = d.LineNumber != null ? LineReason(d.LineNumber.Value) : "default (" + d.Basis + ")";
            var rendered = d.Reply == null ? null : SmtpReply.RuleReplyLine(d.Reply);
            switch (d.Action)
            {
                case RuleAction.Allow:
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.Continue, Replies.RecipientOk.Lines, reason, decision: d, path: path);
                case RuleAction.Defer:
                case RuleAction.Grey:
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.TempFail, new[] { rendered }, reason, decision: d) { CountsAsRefusal = true };
                case RuleAction.Noto:
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.Reject, new[] { rendered }, reason, _options.Tarpit + d.Delay, d) { CountsAsRefusal = true };
                default:
                    // reference §1.8: the rendered reply, then 421, and the session is over.
                    return new Verdict(PolicyStage.Rcpt, VerdictKind.Close, new[] { rendered, Replies.DenyClosing.ToString() }, reason, _options.Tarpit + d.Delay, d);
            }
        }

        /// <summary>"line N", the reason of every verdict a rule line decided: made once per line of the rules.</summary>
        string LineReason(int line) =>
            line >= 0 && line < _lineReasons.Length && _lineReasons[line] != null ? _lineReasons[line] : "line " + line;

        static string[] LineReasons(RuleSet rules)
        {
            int last = 0;
            foreach (var rule in rules.Rules) last = Math.Max(last, rule.LineNumber);
            var reasons = new string[Math.Min(last, 100_000) + 1];
            foreach (var rule in rules.Rules)
                if (rule.LineNumber >= 0 && rule.LineNumber < reasons.Length) reasons[rule.LineNumber] = "line " + rule.LineNumber;
            return reasons;
        }

        Verdict AddressRefusal(PolicyStage stage, MailPath.Problem problem, SmtpReply syntax)
        {
            if (problem == MailPath.Problem.Syntax)
                return Verdict.Of(stage, VerdictKind.Reject, syntax, "refused " + problem, clientError: true);
            var reply = problem == MailPath.Problem.Routed ? Replies.RoutedAddress : Replies.NeedsSmtpUtf8;
            var v = Verdict.Of(stage, VerdictKind.Reject, reply, "refused " + problem, _options.Tarpit);
            v.CountsAsRefusal = true;
            return v;
        }
    }
}
