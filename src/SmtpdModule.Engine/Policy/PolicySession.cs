using System;
using System.Collections.Generic;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// What is known about one session when a stage decides: the client and its name, the HELO, the
    /// sender and the recipients taken so far, TLS, the results of earlier checks, and the facts
    /// (through a <see cref="FactRecorder"/>, so every answer used is on record). The session that
    /// owns it changes it only through the methods below, after a verdict took effect. Not
    /// thread-safe: one command at a time.
    /// </summary>
    public sealed class PolicySession
    {
        readonly List<MailPath> _recipients = new List<MailPath>();
        // Beside each recipient, the decision that accepted it and the rules' hash, for the
        // envelope's provenance: structs in a list the session reuses, nothing per recipient.
        readonly List<(RuleDecision Decision, string RulesSha256)> _decisions = new List<(RuleDecision, string)>();
        // The session's SPF checks by HELO and sender: a client that sends several transactions from
        // one sender is checked once. Bounded: beyond it the oldest answers are forgotten.
        const int SpfChecksKept = 16;
        Dictionary<string, Task<Spf.SpfCheckResult>> _spfChecks;

        /// <param name="client">The client's address.</param>
        /// <param name="facts">Where the checks learn DNS, ident and state answers.</param>
        public PolicySession(IPAddress client, IFacts facts) : this(client, facts, recordFacts: true) { }

        /// <param name="client">The client's address.</param>
        /// <param name="facts">Where the checks learn DNS, ident and state answers.</param>
        /// <param name="recordFacts">False for a session whose facts are already on record (a replay's):
        /// the answers go to the checks and are not kept again, so <see cref="Facts"/> stays empty.</param>
        internal PolicySession(IPAddress client, IFacts facts, bool recordFacts)
        {
            Client = new PeerAddress(client ?? throw new ArgumentNullException(nameof(client)));
            Facts = new FactRecorder(facts ?? throw new ArgumentNullException(nameof(facts)), recordFacts);
            Lookups = new RuleLookups(Facts);
            RuleCache = new RuleSession(Lookups, Facts, Facts.ReadStateAsync);
        }

        /// <summary>The session's DNS questions (reverse name, DNSBL, hosts), asked through <see cref="Facts"/>.</summary>
        internal RuleLookups Lookups { get; }

        public PeerAddress Client { get; }
        /// <summary>The confirmed reverse name; null for UNKNOWN (or not looked up).</summary>
        public string ClientName { get; private set; }
        /// <summary>Why the client has no name, or how it was found; null when there is nothing to say.</summary>
        public string ReverseLookupNote { get; private set; }
        /// <summary>The reverse lookup failed: whether the client has a name is unknown.</summary>
        public bool ReverseLookupFailed { get; private set; }
        /// <summary>The cleaned HELO/EHLO argument; null before HELO (and after STARTTLS).</summary>
        public string Helo { get; private set; }
        public bool Esmtp { get; private set; }
        public bool Tls { get; private set; }
        /// <summary>The sender of the open transaction; null outside one.</summary>
        public MailPath Sender { get; private set; }
        /// <summary>MAIL FROM carried SMTPUTF8 (RFC 6531).</summary>
        public bool SmtpUtf8 { get; private set; }
        /// <summary>The SIZE MAIL FROM declared (RFC 1870); null when none was.</summary>
        public long? DeclaredSize { get; private set; }
        /// <summary>What the downstream (the forwarder's smart host) said of its limits when the
        /// session began: the EHLO's SIZE and SMTPUTF8 follow it, and MAIL is checked against it,
        /// for the whole session. <see cref="DownstreamLimits.Unknown"/> when nothing is known.</summary>
        public DownstreamLimits Downstream { get; private set; } = DownstreamLimits.Unknown;
        /// <summary>The recipients accepted in the open transaction, in order.</summary>
        public IReadOnlyList<MailPath> Recipients => _recipients;
        /// <summary>Every answer the checks have used so far.</summary>
        public FactRecorder Facts { get; }
        /// <summary>The results of checks made so far, by name ("reverse" today; SPF and others later).</summary>
        public IDictionary<string, string> Results { get; } = new SessionResults();

        /// <summary>The protocol tests the client failed in this session (pregreet, pipelining, ...):
        /// facts the rules test with <c>FAILED=</c>. Once failed, a test stays failed, STARTTLS included.</summary>
        public ProtocolTests FailedTests { get; private set; }

        /// <summary>The client failed <paramref name="tests"/> (added to those it failed before).</summary>
        public void Failed(ProtocolTests tests) => FailedTests |= tests;

        /// <summary>The rules' per-session cache of DNS and ident facts.</summary>
        internal RuleSession RuleCache { get; }

        /// <summary>The client's name as the connect stage found it (or as a tester was told).</summary>
        public void SetClientName(string name, string note, bool lookupFailed)
        {
            ClientName = string.IsNullOrEmpty(name) ? null : name;
            ReverseLookupNote = note;
            ReverseLookupFailed = lookupFailed && ClientName == null;
        }

        /// <summary>The downstream's limits, read once at the session's start (or from a record).</summary>
        public void UseDownstream(DownstreamLimits limits) => Downstream = limits ?? DownstreamLimits.Unknown;

        public void Greeted(string helo, bool esmtp)
        {
            Helo = helo;
            Esmtp = esmtp;
        }

        /// <summary>TLS is up: what was said before the handshake no longer counts (RFC 3207 §4.2).</summary>
        public void Secured()
        {
            Tls = true;
            Helo = null;
            EndTransaction();
        }

        public void BeginTransaction(MailPath sender, bool smtpUtf8, long? declaredSize = null)
        {
            Sender = sender ?? throw new ArgumentNullException(nameof(sender));
            _senderForRules = null;
            SmtpUtf8 = smtpUtf8;
            DeclaredSize = declaredSize;
            _recipients.Clear();
            _decisions.Clear();
        }

        /// <param name="recipient">The recipient accepted.</param>
        /// <param name="decision">The rules' decision that accepted it; null when none is known.</param>
        /// <param name="rulesSha256">The SHA-256 of the rules it was decided under.</param>
        public void AddRecipient(MailPath recipient, RuleDecision decision = null, string rulesSha256 = null)
        {
            _recipients.Add(recipient ?? throw new ArgumentNullException(nameof(recipient)));
            _decisions.Add((decision, rulesSha256));
        }

        /// <summary>The decision that accepted recipient <paramref name="index"/> of <see cref="Recipients"/>, and
        /// the hash of the rules it was made under; null when none was given.</summary>
        internal RuleDecision DecisionOf(int index, out string rulesSha256)
        {
            var d = _decisions[index];
            rulesSha256 = d.RulesSha256;
            return d.Decision;
        }

        /// <summary>The SPF check of the open transaction, started at MAIL; null when SPF is not checked.</summary>
        public Task<Spf.SpfCheckResult> Spf { get; private set; }

        /// <summary>The open transaction's SPF check: the session's earlier one for the same HELO and
        /// sender, unless that could not tell (TempError), or a new one from <paramref name="start"/>.</summary>
        internal void UseSpf(string key, Func<Task<Spf.SpfCheckResult>> start)
        {
            if (_spfChecks == null) _spfChecks = new Dictionary<string, Task<Spf.SpfCheckResult>>(StringComparer.OrdinalIgnoreCase);
            if (!_spfChecks.TryGetValue(key, out var check) || check.IsFaulted || check.IsCanceled
                || check.Status == TaskStatus.RanToCompletion && check.Result.Result == Engine.Spf.SpfResult.TempError)
            {
                if (_spfChecks.Count >= SpfChecksKept) _spfChecks.Clear();
                check = start();
                _spfChecks[key] = check;
            }
            Spf = check;
            RuleCache.UseSpf(_ => check);
        }

        public void EndTransaction()
        {
            Spf = null;
            RuleCache.UseSpf(null);
            Sender = null;
            _senderForRules = null;
            SmtpUtf8 = false;
            DeclaredSize = null;
            _recipients.Clear();
            _decisions.Clear();
        }

        /// <summary>The rules' view of the open transaction for one recipient it parsed.</summary>
        internal RuleInput RuleInputFor(MailPath recipient) =>
            WithSession(RuleInput.OfSession(Client, ClientName, SenderForRules(), MailboxText.Of(recipient), Helo, ReverseLookupNote, ReverseLookupFailed));

        // The open transaction's sender as the rules see it, made once for all its recipients.
        MailboxText _senderForRules;

        MailboxText SenderForRules() =>
            Sender == null ? new MailboxText("<>") : _senderForRules ?? (_senderForRules = MailboxText.Of(Sender));

        /// <summary>The rules' view of this session for one recipient.</summary>
        /// <param name="recipient">The recipient as the rules see it.</param>
        /// <param name="senderText">The sender when no transaction is open (a refused MAIL, for the record).</param>
        internal RuleInput RuleInputFor(string recipient, string senderText = null) =>
            WithSession(RuleInput.OfSession(Client, ClientName, Sender?.Text ?? senderText ?? "<>", recipient, Helo, ReverseLookupNote, ReverseLookupFailed));

        RuleInput WithSession(RuleInput input)
        {
            input.FailedTests = FailedTests;
            input.Time = Clock.UtcNow;
            return input;
        }

        /// <summary>The time checks measure by (greylisting's wait): the machine's, or a record's in a replay.</summary>
        public State.ISystemClock Clock { get; set; } = State.SystemClock.Instance;
    }
}
