using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// One transaction to try against the rules without a network peer (Test-SmtpdRule): the
    /// client, the envelope, and what identd would say. Nothing is ever sent to the client address.
    /// </summary>
    public sealed class RuleTestRequest
    {
        /// <summary>The peer's address (IPv4 or IPv6).</summary>
        public IPAddress ClientAddress { get; set; }

        /// <summary>
        /// The peer's reverse name. Null: look it up (PTR, then forward confirmation unless
        /// <see cref="ConfirmReverseName"/> is false). Empty: the peer has no reverse name (UNKNOWN)
        /// and nothing is asked. Anything else is taken as the verified name, without a lookup.
        /// </summary>
        public string ClientName { get; set; }

        /// <summary>With a looked-up name: honour the PTR only when its own addresses include the
        /// peer (reference §9). Default true; false trusts the PTR as the original did.</summary>
        public bool ConfirmReverseName { get; set; } = true;

        /// <summary>What the client's identd would answer, if the rules ask (reference §2.5). Null or
        /// empty: no answer. Never a network query.</summary>
        public string Ident { get; set; }

        /// <summary>The HELO argument; carried for completeness, no rule looks at it (reference §1.7).</summary>
        public string Helo { get; set; }

        /// <summary>The MAIL FROM argument as the client sent it (<c>&lt;&gt;</c> for the null sender).</summary>
        public string From { get; set; }

        /// <summary>The RCPT TO arguments, each checked in order as its own RCPT.</summary>
        public IReadOnlyList<string> To { get; set; }

        /// <summary>Record for every line why it did or did not match (<see cref="RuleDecision.Explanation"/>).</summary>
        public bool Explain { get; set; }

        /// <summary>Check addresses as the proxy's strict default does (source routes, %-hacks, bang paths,
        /// quoted '@' refused with 553 before the rules see them) and report it on each decision.</summary>
        public bool StrictAddresses { get; set; } = true;

        /// <summary>
        /// Parses a client address strictly: an IPv4 address is four decimal numbers 0-255 (the
        /// shorthand forms <c>127.1</c>, <c>0x7f.0.0.1</c> or octal-looking <c>010.0.0.1</c> are
        /// refused, since each reads differently to different tools); an IPv6 address contains
        /// <c>:</c> and may be written in brackets; a zone index (<c>%eth0</c>) is refused.
        /// </summary>
        /// <param name="text">The text to parse; surrounding white space is ignored.</param>
        /// <param name="address">The address; null when parsing fails.</param>
        /// <param name="error">What is wrong with <paramref name="text"/>; null on success.</param>
        public static bool TryParseClientAddress(string text, out IPAddress address, out string error)
        {
            if (Net.IPText.TryParseAddress(text, out address, out var why)) { error = null; return true; }
            error = "'" + text + "' is not a client address: " + why + ". Expected an IPv4 address such as 192.0.2.10 or an IPv6 address such as 2001:db8::10.";
            return false;
        }
    }

    /// <summary>
    /// Evaluates whole transactions against one <see cref="RuleSet"/>, the way the proxy would at
    /// each RCPT, and reports every decision: the contract of the conformance vectors
    /// (reference §8, §9 "a rule tester").
    /// </summary>
    /// <remarks>
    /// Each request is a fresh SMTP session (fresh caches, no ident known, reference §8). DNS is
    /// asked only when something needs it (a looked-up reverse name, <c>RBL.</c>, <c>NS=</c>); the
    /// resolver is built on that first question, so rules that need no DNS never touch a server.
    /// Ident answers come from the request, never from the network. Not thread-safe: one request
    /// at a time.
    /// </remarks>
    public sealed class RuleTester : IDisposable
    {
        readonly RuleEvaluator _evaluator;
        readonly LazyResolver _dns;
        readonly RuleLookups _lookups;

        /// <param name="rules">The compiled rules.</param>
        /// <param name="options">Default action and delays; null for the defaults.</param>
        /// <param name="dnsOptions">The DNS servers to ask; null or no servers means the system's.</param>
        /// <exception cref="ArgumentNullException"><paramref name="rules"/> is null.</exception>
        public RuleTester(RuleSet rules, RuleEvaluationOptions options = null, DnsResolverOptions dnsOptions = null)
        {
            if (rules == null) throw new ArgumentNullException(nameof(rules));
            _evaluator = new RuleEvaluator(rules, options);
            _dns = new LazyResolver(dnsOptions ?? new DnsResolverOptions());
            _lookups = new RuleLookups(_dns);
        }

        public RuleSet Rules => _evaluator.Rules;
        public RuleEvaluationOptions Options => _evaluator.Options;

        /// <summary>Evaluates every recipient of <paramref name="request"/> in order.</summary>
        /// <returns>One decision per recipient, in the order given.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="request"/>, its address, or a recipient is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="request"/> has no recipients.</exception>
        /// <exception cref="ObjectDisposedException">The tester was disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public Task<IReadOnlyList<RuleDecision>> TestAsync(RuleTestRequest request, CancellationToken cancellationToken = default) =>
            TestAsync(request, null, cancellationToken);

        /// <summary>Evaluates every recipient of <paramref name="request"/> in order, and says how the
        /// reverse name was found.</summary>
        /// <param name="request">The transaction.</param>
        /// <param name="notes">Receives one line about the reverse lookup when one was made (what the
        /// PTR said, whether it was confirmed, why it failed); may be null.</param>
        /// <param name="cancellationToken">Abandons the lookups.</param>
        /// <returns>One decision per recipient, in the order given.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="request"/>, its address, or a recipient is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="request"/> has no recipients.</exception>
        /// <exception cref="ObjectDisposedException">The tester was disposed.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<IReadOnlyList<RuleDecision>> TestAsync(RuleTestRequest request, ICollection<string> notes, CancellationToken cancellationToken = default)
        {
            if (request == null) throw new ArgumentNullException(nameof(request));
            if (request.ClientAddress == null) throw new ArgumentNullException(nameof(request), "The request has no client address.");
            if (request.To == null || request.To.Count == 0) throw new ArgumentException("The request has no recipients.", nameof(request));
            foreach (var to in request.To)
                if (to == null) throw new ArgumentNullException(nameof(request), "A recipient is null.");
            if (_dns.IsDisposed) throw new ObjectDisposedException(nameof(RuleTester));

            var name = request.ClientName;
            string note = null;
            bool reverseFailed = false;
            if (name == null)
            {
                var reverse = await _lookups.ReverseNameAsync(request.ClientAddress, request.ConfirmReverseName, cancellationToken).ConfigureAwait(false);
                name = reverse.Name;
                reverseFailed = reverse.Outcome == LookupOutcome.Failed;   // the name is unknown, not absent
                note = Describe(request.ClientAddress, request.ConfirmReverseName, reverse);
                notes?.Add(note);
            }

            var ident = string.IsNullOrEmpty(request.Ident) ? null : request.Ident;
            var session = new RuleSession(_lookups, new FixedIdentSource(ident));
            var from = string.IsNullOrEmpty(request.From) ? "<>" : request.From;
            var input = new RuleInput(request.ClientAddress, name, from, request.To[0], request.Helo, note, reverseFailed);

            var decisions = new List<RuleDecision>(request.To.Count);
            for (int i = 0; i < request.To.Count; i++)
            {
                if (i > 0) input = input.WithRecipient(request.To[i]);
                // The proxy checks the addresses before it asks the rules, and a refusal there is its
                // answer: so is it here, with the rules not asked (one truth).
                var check = AddressCheck(from, request.To[i], request.StrictAddresses);
                var decision = check != null
                    ? RuleDecision.AddressRefused(input, check.Value.Reply.ToString(), check.Value.Command, _evaluator.Rules.Path)
                    : await _evaluator.EvaluateAsync(input, session, request.Explain, cancellationToken).ConfigureAwait(false);
                decisions.Add(decision);
            }
            return decisions;
        }

        /// <summary>
        /// The command and reply with which the proxy's address check refuses this sender or
        /// recipient before the rules are asked, or null when both pass. SMTPUTF8 is assumed
        /// offered, so a non-ASCII address is judged on its syntax alone.
        /// </summary>
        static (string Command, SmtpReply Reply)? AddressCheck(string from, string to, bool strict)
        {
            var f = MailPath.TryParse(from, allowNull: true, strict: strict, smtpUtf8: true, out _);
            if (f != MailPath.Problem.None) return ("MAIL", ProblemReply(f, Replies.BadSenderSyntax));
            var t = MailPath.TryParse(to, allowNull: false, strict: strict, smtpUtf8: true, out _);
            if (t == MailPath.Problem.Syntax && to.Trim() == "<>") return ("RCPT", Replies.NullRecipient);
            return t == MailPath.Problem.None ? ((string, SmtpReply)?)null : ("RCPT", ProblemReply(t, Replies.BadRecipientSyntax));
        }

        internal static SmtpReply ProblemReply(MailPath.Problem problem, SmtpReply syntax) =>
            problem == MailPath.Problem.Routed ? Replies.RoutedAddress
            : problem == MailPath.Problem.NeedsSmtpUtf8 ? Replies.NeedsSmtpUtf8
            : syntax;

        static string Describe(IPAddress address, bool confirm, ReverseName r)
        {
            var peer = new PeerAddress(address).Text;
            switch (r.Outcome)
            {
                case LookupOutcome.Found:
                    return "reverse name of " + peer + ": " + r.Name + (confirm ? " (forward-confirmed)" : " (PTR trusted without forward confirmation)");
                case LookupOutcome.Failed:
                    return "reverse lookup of " + peer + " failed, whether the client has a name is unknown: " + r.Note;
                default:
                    return r.Ptr == null
                        ? "reverse name of " + peer + ": none (no PTR record), the client is UNKNOWN"
                        : "reverse name of " + peer + ": UNKNOWN, " + r.Note;
            }
        }

        /// <summary>Releases the DNS client, if one was built.</summary>
        public void Dispose() => _dns.Dispose();

        /// <summary>Builds the real resolver on the first question. A resolver that cannot be built
        /// (no servers given and none configured) answers every question as failed, so the rules that
        /// need DNS take the default action instead of the whole test failing.</summary>
        sealed class LazyResolver : IDnsResolver, IDisposable
        {
            readonly DnsResolverOptions _options;
            readonly object _gate = new object();
            DnsClientResolver _resolver;
            string _unusable;
            bool _disposed;

            public LazyResolver(DnsResolverOptions options) { _options = options.Clone(); }

            public bool IsDisposed { get { lock (_gate) return _disposed; } }

            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                DnsClientResolver resolver;
                lock (_gate)
                {
                    if (_disposed) throw new ObjectDisposedException(nameof(RuleTester));
                    if (_resolver == null && _unusable == null)
                    {
                        try { _resolver = new DnsClientResolver(_options); }
                        catch (InvalidOperationException ex) { _unusable = ex.Message; }
                    }
                    resolver = _resolver;
                }
                return resolver != null ? resolver.QueryAsync(name, type, cancellationToken) : Task.FromResult(DnsAnswer.Failed(_unusable));
            }

            public void Dispose()
            {
                DnsClientResolver resolver;
                lock (_gate)
                {
                    if (_disposed) return;
                    _disposed = true;
                    resolver = _resolver;
                    _resolver = null;
                }
                resolver?.Dispose();
            }
        }
    }
}
