using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Decides one RCPT against a <see cref="RuleSet"/> (reference §1.4, §2, §3): first match in
    /// file order, source list then from list then to list, each short-circuited, debug lines
    /// logged and passed.
    /// </summary>
    /// <remarks>
    /// The scan itself is synchronous and allocation-free. When it needs a fact it does not have
    /// (a DNS answer, the ident user) it stops, the fact is fetched asynchronously into the
    /// session, and the scan starts again; facts are pure functions of their question, so a
    /// restarted scan reaches the same point and goes further. A check that cannot complete (DNS
    /// failure, regex timeout) takes the default action; unlike the original, it does not
    /// poison later checks of the session (reference §9).
    /// </remarks>
    public sealed class RuleEvaluator
    {
        public RuleEvaluator(RuleSet rules, RuleEvaluationOptions options = null)
        {
            Rules = rules ?? throw new ArgumentNullException(nameof(rules));
            Options = options ?? RuleEvaluationOptions.Default;
        }

        public RuleSet Rules { get; }
        public RuleEvaluationOptions Options { get; }

        /// <summary>Decides without waiting: false when the decision needs a fact the session does not have yet.</summary>
        public bool TryEvaluate(RuleInput input, RuleSession session, out RuleDecision decision)
        {
            if (input == null) throw new ArgumentNullException(nameof(input));
            if (session == null) throw new ArgumentNullException(nameof(session));
            session.BeginCheck();
            var scan = new Scan(this, input, session, null);
            decision = scan.Run();
            return decision != null;
        }

        /// <summary>Decides one recipient, asking DNS and ident as the rules need them.</summary>
        /// <param name="input">The peer, sender and recipient to decide.</param>
        /// <param name="session">The session's cached lookups, shared by its recipients.</param>
        /// <param name="explain">Also record, for every line, why it did or did not match (no index: every line is tried).</param>
        /// <param name="cancellationToken">Stops the lookups.</param>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<RuleDecision> EvaluateAsync(RuleInput input, RuleSession session, bool explain = false, CancellationToken cancellationToken = default)
        {
            if (input == null) throw new ArgumentNullException(nameof(input));
            if (session == null) throw new ArgumentNullException(nameof(session));
            session.BeginCheck();
            for (int fetched = 0; ; fetched++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var scan = new Scan(this, input, session, explain ? new List<RuleTrace>() : null);
                var decision = scan.Run();
                if (decision != null) return decision;
                if (fetched >= RuleSession.LookupsPerCheckLimit)
                    return scan.Default(DecisionBasis.DefaultOnFailure, "more than " + RuleSession.LookupsPerCheckLimit + " lookups in one check");
                await session.FetchAsync(scan.PendingKind, scan.PendingName, cancellationToken).ConfigureAwait(false);
            }
        }

        enum Tri { No, Yes, Pending, Fail }

        /// <summary>One pass over the rules for one input.</summary>
        struct Scan
        {
            readonly RuleEvaluator _owner;
            readonly RuleInput _in;
            readonly RuleSession _session;
            readonly List<RuleTrace> _trace;
            bool _identAsked;
            string _ident;
            List<int> _debug;
            string _failure;
            string _matched;
            public RuleSession.FactKind PendingKind;
            public string PendingName;

            public Scan(RuleEvaluator owner, RuleInput input, RuleSession session, List<RuleTrace> trace)
            {
                _owner = owner;
                _in = input;
                _session = session;
                _trace = trace;
                _identAsked = false;
                _ident = null;
                _debug = null;
                _failure = null;
                _matched = null;
                PendingKind = default;
                PendingName = null;
            }

            /// <summary>The decision, or null when a fact is pending.</summary>
            public RuleDecision Run()
            {
                var rules = _owner.Rules.Rules;
                if (_trace != null)
                {
                    for (int i = 0; i < rules.Count; i++)
                    {
                        var d = Try(rules[i], out bool stop);
                        if (stop)
                        {
                            if (d != null) for (int j = i + 1; j < rules.Count; j++)
                                _trace.Add(new RuleTrace(rules[j].LineNumber, rules[j].Text, RuleTraceResult.NotReached, null, null, null));
                            return d;
                        }
                    }
                    return Default(DecisionBasis.DefaultNoMatch, null);
                }

                var cursor = CandidateCursor.Create();
                try
                {
                    _owner.Rules.Index.Collect(_in, ref cursor);
                    for (int i = cursor.Next(); i >= 0; i = cursor.Next())
                    {
                        var d = Try(rules[i], out bool stop);
                        if (stop) return d;
                    }
                }
                finally
                {
                    cursor.Clear();
                }
                return Default(DecisionBasis.DefaultNoMatch, null);
            }

            /// <summary>Evaluates one line. stop: the scan ends here (a decision, a failure, or a pending fact → null).</summary>
            RuleDecision Try(Rule rule, out bool stop)
            {
                stop = false;
                _matched = null;
                var r = MatchList(rule.Source);
                string matchedSource = _matched;
                RuleListKind failedAt = RuleListKind.Source;
                if (r == Tri.Yes) { _matched = null; r = MatchList(rule.From); failedAt = RuleListKind.From; }
                string matchedFrom = _matched;
                if (r == Tri.Yes) { _matched = null; r = MatchList(rule.To); failedAt = RuleListKind.To; }

                switch (r)
                {
                    case Tri.Pending:
                        stop = true;
                        return null;
                    case Tri.Fail:
                        stop = true;
                        _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Failed, failedAt, null, _failure));
                        return Default(DecisionBasis.DefaultOnFailure, "line " + rule.LineNumber + ": " + _failure);
                    case Tri.No:
                        _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.NoMatch, failedAt,
                            Describe(matchedSource, matchedFrom, null), failedAt.ToString().ToLowerInvariant() + " list did not match"));
                        return null;
                }

                var tokens = _trace == null ? null : Describe(matchedSource, matchedFrom, _matched);
                if (rule.Verb == RuleVerb.Debug)
                {
                    // reference §1.3: log "matched line N" and go on.
                    (_debug ?? (_debug = new List<int>())).Add(rule.LineNumber);
                    _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.DebugMatched, null, tokens, "debug line: logged, evaluation goes on"));
                    return null;
                }
                stop = true;
                _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Decided, null, tokens, null));
                var action = rule.Action;
                var delay = rule.Verb == RuleVerb.NotoDelay ? _owner.Options.NotoDelay
                          : rule.Verb == RuleVerb.DenyDelay ? _owner.Options.DenyDelay : TimeSpan.Zero;
                var reply = action == RuleAction.Allow ? null : Render(rule.Message ?? ReplyTemplate.Default);
                return new RuleDecision(_in, action, rule, reply, delay, DecisionBasis.Rule, null, IdentUsed, _debug, _trace, _owner.Rules.Path);
            }

            static string Describe(string source, string from, string to)
            {
                if (source == null) return null;
                var s = "source=" + source;
                if (from != null) s += "; from=" + from;
                if (to != null) s += "; to=" + to;
                return s;
            }

            string IdentUsed => _identAsked ? _ident : null;

            string Render(ReplyTemplate t) =>
                t.Render(_in.From.Raw, _in.To.Raw, _in.ClientName, _in.Client.Text, IdentUsed);

            public RuleDecision Default(DecisionBasis basis, string failure)
            {
                // A fail-closed default renders the default template, never the last parsed line's message
                // (the original's quirk, reference §1.6, is fixed).
                var deny = _owner.Options.DefaultAction == DefaultAction.Deny;
                return new RuleDecision(_in, deny ? RuleAction.Deny : RuleAction.Allow, null,
                    deny ? Render(ReplyTemplate.Default) : null, TimeSpan.Zero, basis, failure, IdentUsed, _debug, _trace, _owner.Rules.Path);
            }

            Tri MatchList(RuleList list)
            {
                foreach (var token in list.Positive)
                {
                    var r = list.Kind == RuleListKind.Source
                        ? MatchSource((SourceToken)token)
                        : MatchAddress((AddressToken)token, list.Kind == RuleListKind.From ? _in.From : _in.To);
                    if (r == Tri.No) continue;
                    if (r != Tri.Yes) return r;
                    if (_trace != null) _matched = token.Text;
                    if (list.Except == null) return Tri.Yes;
                    var saved = _matched;
                    var e = MatchList(list.Except);
                    _matched = saved;
                    return e == Tri.Yes ? Tri.No : e == Tri.No ? Tri.Yes : e;
                }
                return Tri.No;
            }

            Tri Pending(RuleSession.FactKind kind, string name)
            {
                PendingKind = kind;
                PendingName = name;
                return Tri.Pending;
            }

            Tri Failed(string why)
            {
                _failure = why;
                return Tri.Fail;
            }

            Tri Match(StringPattern p, string text)
            {
                try
                {
                    return p.IsMatch(text) ? Tri.Yes : Tri.No;
                }
                catch (RegexMatchTimeoutException)
                {
                    return Failed("regular expression " + p.Text + " timed out");
                }
            }

            Tri MatchSource(SourceToken t)
            {
                if (t.HasUser)
                {
                    // Evaluating a user@host token asks ident (reference §2.5), even for ALL@host.
                    if (!_identAsked)
                    {
                        if (!_session.TryGet(RuleSession.FactKind.Ident, null, out var f)) return Pending(RuleSession.FactKind.Ident, null);
                        _identAsked = true;
                        _ident = ((RuleSession.IdentFact)f).User;
                    }
                    Tri user;
                    if (t.UserIsKnown) user = _ident != null ? Tri.Yes : Tri.No;
                    else if (_ident == null) user = t.User.IsAll ? Tri.Yes : Tri.No;
                    else user = Match(t.User, _ident);
                    if (user != Tri.Yes) return user;
                }
                return MatchHost(t.Host);
            }

            Tri MatchHost(HostPattern h)
            {
                var name = _in.ClientName;
                if (_in.NameLooksLikeAddress)
                    return h.Address == null ? Tri.No : MatchIp(h.Address, _in.Client);   // reference §2.2 b1
                switch (h.Kind)
                {
                    case HostPattern.PatternKind.Known: return name != null ? Tri.Yes : Tri.No;
                    case HostPattern.PatternKind.Unknown: return name == null ? Tri.Yes : Tri.No;
                    case HostPattern.PatternKind.NameServers: return MatchNameServers(h.NameServers, name ?? _in.ReverseZoneName);
                }
                // A peer without a name has no name to glob: the original's "UNKNOWN" placeholder is not matched
                // as text (fixed). '*' and ALL still match it through the IP matcher below.
                if (name != null || h.Name.IsAll)
                {
                    var r = Match(h.Name, name);
                    if (r != Tri.No) return r;
                }
                return h.Address == null ? Tri.No : MatchIp(h.Address, _in.Client);
            }

            Tri MatchIp(IpPattern p, PeerAddress address)
            {
                if (p.Kind != IpPattern.PatternKind.Dnsbl) return p.MatchesAddress(address) ? Tri.Yes : Tri.No;
                var query = ReverseNames.DnsblName(address.Address, p.DnsblZone);
                if (!_session.TryGet(RuleSession.FactKind.Dnsbl, query, out var f)) return Pending(RuleSession.FactKind.Dnsbl, query);
                switch ((LookupOutcome)f)
                {
                    case LookupOutcome.Found: return Tri.Yes;
                    case LookupOutcome.NotFound: return Tri.No;
                    default: return Failed("DNSBL lookup " + query + " failed");
                }
            }

            Tri MatchNameServers(NsPattern p, string domain)
            {
                if (!_session.TryGet(RuleSession.FactKind.NameServers, domain, out var f)) return Pending(RuleSession.FactKind.NameServers, domain);
                var facts = (RuleSession.NameServerFacts)f;
                var set = facts.Set;
                if (set.Outcome == LookupOutcome.Failed) return Failed(set.Error ?? "name-server lookup for '" + domain + "' failed");

                if (p.Kind != NsPattern.PatternKind.General)
                {
                    if (!_session.TryGet(RuleSession.FactKind.Host, domain, out var h)) return Pending(RuleSession.FactKind.Host, domain);
                    var host = (HostAddresses)h;
                    if (host.Outcome == LookupOutcome.Failed) return Failed("address lookup for '" + domain + "' failed");
                    bool resolves = host.Outcome == LookupOutcome.Found;
                    bool uncropped = set.Names.Count > 0 && set.Crops == 0;
                    bool known = resolves || uncropped;   // reference §2.4 crop rule
                    return (p.Kind == NsPattern.PatternKind.Known) == known ? Tri.Yes : Tri.No;
                }
                foreach (var peer in facts.Peers)
                {
                    var r = MatchIp(p.Addresses, peer);
                    if (r != Tri.No) return r;
                }
                foreach (var n in set.Names)
                {
                    var r = Match(p.Names, n);
                    if (r != Tri.No) return r;
                }
                return Tri.No;
            }

            Tri MatchAddress(AddressToken t, MailboxText m)
            {
                switch (t.Kind)
                {
                    case AddressToken.TokenKind.Regex:
                    case AddressToken.TokenKind.Whole:
                        return Match(t.Whole, m.Address);
                    case AddressToken.TokenKind.NameServers:
                        return MatchNameServers(t.NameServers, m.NameServerDomain);
                }
                if (m.Local == null) return Tri.No;   // L@R never matches an address without '@'
                Tri local;
                if (t.LocalIsUser)
                    // Ident is compared as literal text, never as a pattern (reference §7.4 fixed).
                    // An ident with '*' never stands in for USER (reference §2.3).
                    local = _identAsked && _ident != null && _ident.IndexOf('*') < 0
                            && string.Equals(m.Local, _ident, StringComparison.OrdinalIgnoreCase) ? Tri.Yes : Tri.No;
                else
                    local = Match(t.Local, m.Local);
                if (local != Tri.Yes) return local;
                return t.NameServers != null ? MatchNameServers(t.NameServers, m.Domain) : Match(t.Domain, m.Domain);
            }
        }
    }
}
