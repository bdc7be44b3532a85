using System;
using System.Collections.Generic;
using System.Text.RegularExpressions;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;
using static SmtpdModule.Engine.Rules.TriLogic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// One pass of a <see cref="RuleEvaluator"/> over its rules for one input: stops with a
    /// decision, or with the fact it needs next (<see cref="PendingKind"/>, <see cref="PendingName"/>).
    /// </summary>
    internal partial struct RuleScan
    {
        readonly RuleEvaluator _evaluator;
        readonly RuleInput _in;
        readonly RuleSession _ruleSession;
        readonly List<RuleTrace> _trace;
        bool _identAsked;
        string _ident;
        string _identFailure;
        List<int> _debug;
        string _failure;
        List<string> _failures;
        Rule _uncertainAllow;
        string _matched;
        string _dnsblNote;
        List<ScoreResult> _scores;
        (ScoreResult Result, int? Threshold) _lineScore;
        public RuleSession.FactKind PendingKind;
        public string PendingName;
        /// <summary>When several facts are pending at once (a score's zones): all of them, to be fetched together.</summary>
        public List<string> PendingNames;

        public RuleScan(RuleEvaluator evaluator, RuleInput input, RuleSession ruleSession, List<RuleTrace> trace)
        {
            _evaluator = evaluator;
            _in = input;
            _ruleSession = ruleSession;
            _trace = trace;
            _identAsked = false;
            _ident = null;
            _identFailure = null;
            _debug = null;
            _failure = null;
            _failures = null;
            _uncertainAllow = null;
            _matched = null;
            _dnsblNote = null;
            _scores = null;
            _lineScore = default;
            _spf = null;
            _grey = null;
            PendingKind = default;
            PendingName = null;
            PendingNames = null;
        }

        /// <summary>The decision, or null when a fact is pending.</summary>
        public RuleDecision Run()
        {
            var lines = _evaluator.RuleSet.Rules;
            // The index files lines under the client's name; when the name is unknown every such
            // line is uncertain rather than skipped, so try every line.
            if (_trace != null || _in.ReverseLookupFailed)
            {
                for (int i = 0; i < lines.Count; i++)
                {
                    var d = Try(lines[i], out bool stop);
                    if (stop)
                    {
                        if (d != null && _trace != null) for (int j = i + 1; j < lines.Count; j++)
                            _trace.Add(new RuleTrace(lines[j].LineNumber, lines[j].Text, RuleTraceResult.NotReached, null, null, null));
                        return d;
                    }
                }
                return NoLineMatched();
            }

            var cursor = CandidateCursor.Create();
            try
            {
                _ruleSession.Collect(_evaluator.RuleSet.Index, _in, ref cursor);
                for (int i = cursor.Next(); i >= 0; i = cursor.Next())
                {
                    var d = Try(lines[i], out bool stop);
                    if (stop) return d;
                }
            }
            finally
            {
                cursor.Clear();
            }
            return NoLineMatched();
        }

        /// <summary>The end of the file: the default action, unless a failure left a line undecided.</summary>
        RuleDecision NoLineMatched() =>
            _failures != null ? Undecidable(null, null) : Default(DecisionBasis.DefaultNoMatch);

        /// <summary>Evaluates one line. stop: the scan ends here (a decision, or a pending fact → null).</summary>
        RuleDecision Try(Rule rule, out bool stop)
        {
            stop = false;
            _matched = null;
            _failure = null;
            _dnsblNote = null;
            _lineScore = default;
            // Source, then from, then to (reference §1.4). A list that certainly does not match ends
            // the line; one that is unknown does not, so a later list can still settle it as "no".
            var r = MatchList(rule.Source);
            string matchedSource = _matched;
            RuleListKind failedAt = RuleListKind.Source;
            if (r != Tri.No && r != Tri.Pending)
            {
                _matched = null;
                var f = MatchList(rule.From);
                if (f == Tri.Pending) r = f; else { if (f == Tri.No) failedAt = RuleListKind.From; r = And(r, f); }
            }
            string matchedFrom = _matched;
            if (r != Tri.No && r != Tri.Pending)
            {
                _matched = null;
                var t = MatchList(rule.To);
                if (t == Tri.Pending) r = t; else { if (t == Tri.No) failedAt = RuleListKind.To; r = And(r, t); }
            }

            if (r == Tri.Pending)
            {
                stop = true;
                return null;
            }
            if (r == Tri.No)
            {
                _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.NoMatch, failedAt,
                    Describe(matchedSource, matchedFrom, null), With(WithDnsblNote(failedAt.ToString().ToLowerInvariant() + " list did not match"), rule)));
                return null;
            }

            var tokens = _trace == null ? null : Describe(matchedSource, matchedFrom, _matched);
            bool uncertain = IsUnknown(r);
            if (uncertain)
            {
                var why = "line " + rule.LineNumber + ": " + (_failure ?? "a lookup failed");
                (_failures ?? (_failures = new List<string>())).Add(why);
                if (r == Tri.UnknownNo)
                {
                    // The failed token did not match (reference §2.2: a failure is "not listed"), so the
                    // line is passed over; remember an acceptance that a working lookup might have given.
                    if (rule.Verb != RuleVerb.Debug && rule.Action == RuleAction.Allow && _uncertainAllow == null) _uncertainAllow = rule;
                    _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Failed, null, tokens,
                        (_failure ?? "a lookup failed") + "; the line is passed over as if it did not match"));
                    return null;
                }
            }

            if (rule.Verb == RuleVerb.Debug)
            {
                // reference §1.3: log "matched line N" and go on.
                (_debug ?? (_debug = new List<int>())).Add(rule.LineNumber);
                _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.DebugMatched, null, tokens, "debug line: logged, evaluation goes on"));
                return null;
            }
            if (rule.Verb == RuleVerb.Grey && !uncertain && _uncertainAllow == null)
            {
                var grey = Grey(rule, tokens, out bool pending);
                stop = pending || grey != null;
                return grey;
            }
            stop = true;
            var action = rule.Action;
            bool refuses = action != RuleAction.Allow;
            if (refuses && (uncertain || _uncertainAllow != null) || _evaluator.Options.OnLookupFailure == LookupFailurePolicy.Defer && _failures != null)
            {
                // A refusal that a failed lookup decided, or that shadows an acceptance a failed lookup hid,
                // may be wrong: ask the client to come back rather than refuse good mail for ever. With
                // OnLookupFailure Defer, any failure on the way defers.
                var note = uncertain ? "matched only because a lookup failed"
                         : refuses && _uncertainAllow != null ? "line " + _uncertainAllow.LineNumber + " might have accepted"
                         : "a lookup failed on the way (OnLookupFailure Defer)";
                _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Failed, null, tokens, note + ": deferred (451 4.4.3)"));
                return Undecidable(rule, note);
            }
            _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Decided, null, tokens,
                With(WithDnsblNote(uncertain ? "matched because a failed lookup counts as no match in an EXCEPT" : null), rule)));
            var delay = rule.Verb == RuleVerb.NotoDelay ? _evaluator.Options.NotoDelay
                      : rule.Verb == RuleVerb.DenyDelay ? _evaluator.Options.DenyDelay : TimeSpan.Zero;
            var reply = action == RuleAction.Allow ? null : Render(rule.Message ?? ReplyTemplate.Default);
            return Scored(new RuleDecision(_in, action, rule, reply, delay, DecisionBasis.Rule, Failures(null), IdentUsed, _debug, _trace, _evaluator.RuleSet.Path));
        }

        string IdentUsed => _identAsked ? _ident : null;

        string Render(ReplyTemplate t) =>
            t.Render(_in.From.Raw, _in.To.Raw, _in.ClientName, _in.Client.Text, IdentUsed);

        RuleDecision Default(DecisionBasis basis)
        {
            // A fail-closed default renders the default template, never the last parsed line's message
            // (the original's quirk, reference §1.6, is fixed).
            var deny = _evaluator.Options.DefaultAction == DefaultAction.Deny;
            return Scored(new RuleDecision(_in, deny ? RuleAction.Deny : RuleAction.Allow, null,
                deny ? Render(ReplyTemplate.Default) : null, TimeSpan.Zero, basis, null, IdentUsed, _debug, _trace, _evaluator.RuleSet.Path));
        }

        /// <summary>No certain decision: a temporary refusal of this recipient, never an acceptance, never a 5xx.</summary>
        public RuleDecision Undecidable(Rule rule, string extra) =>
            Scored(new RuleDecision(_in, RuleAction.Defer, rule, RuleDecision.DeferReply, TimeSpan.Zero, DecisionBasis.LookupFailure,
                Failures(extra), IdentUsed, _debug, _trace, _evaluator.RuleSet.Path));

        /// <summary>Any positive token, then not the EXCEPT list (reference §2.1), in three values.</summary>
        Tri MatchList(RuleList list)
        {
            bool unknown = false;
            foreach (var token in list.Positive)
            {
                var r = list.Kind == RuleListKind.Source
                    ? MatchSource((SourceToken)token)
                    : MatchAddress((AddressToken)token, list.Kind == RuleListKind.From ? _in.From : _in.To);
                if (r == Tri.Pending) return r;
                if (IsUnknown(r)) { unknown = true; continue; }   // a later token may still match for certain
                if (r == Tri.No) continue;
                if (_trace != null) _matched = token.Text;
                return Except(list, Tri.Yes);
            }
            return unknown ? Except(list, Tri.UnknownNo) : Tri.No;
        }

        Tri Except(RuleList list, Tri positive)
        {
            if (list.Except == null) return positive;
            var saved = _matched;
            var e = MatchList(list.Except);
            _matched = saved;
            return e == Tri.Pending ? e : And(positive, Not(e));
        }

        Tri Pending(RuleSession.FactKind kind, string name)
        {
            PendingKind = kind;
            PendingName = name;
            return Tri.Pending;
        }

        Tri Failed(string why)
        {
            if (_failure == null) _failure = why;
            return Tri.UnknownNo;
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
            // A fact of the session, known before any rule runs: no lookup, never uncertain.
            if (t.IsProtocolTest) return (_in.FailedTests & t.FailedTest) != 0 ? Tri.Yes : Tri.No;
            if (t.IsScore) return MatchScore(t.Score);
            if (t.HasUser)
            {
                // Evaluating a user@host token asks ident (reference §2.5), even for ALL@host.
                if (!_identAsked)
                {
                    if (!_ruleSession.TryGet(RuleSession.FactKind.Ident, null, out var f)) return Pending(RuleSession.FactKind.Ident, null);
                    _identAsked = true;
                    _ident = ((RuleSession.IdentFact)f).User;
                    _identFailure = ((RuleSession.IdentFact)f).Failure;
                }
                Tri user;
                if (_identFailure != null) user = !t.UserIsKnown && t.User.IsAll ? Tri.Yes : Failed(_identFailure);
                else if (t.UserIsKnown) user = _ident != null ? Tri.Yes : Tri.No;
                else if (_ident == null) user = t.User.IsAll ? Tri.Yes : Tri.No;
                else user = Match(t.User, _ident);
                if (user == Tri.No) return user;
                var host = MatchHost(t.Host);
                return host == Tri.Pending ? host : And(user, host);
            }
            return MatchHost(t.Host);
        }

        Tri MatchHost(HostPattern h)
        {
            var name = _in.ClientName;
            if (_in.NameLooksLikeAddress)
                return h.Address == null ? Tri.No : MatchIp(h.Address, _in.Client);   // reference §2.2 b1
            if (_in.ReverseLookupFailed)
            {
                // Whether the client has a name is not known: every test of the name is unknown, while
                // ALL and the address patterns still answer for certain.
                if (h.Kind == HostPattern.PatternKind.General && h.Name.IsAll) return Tri.Yes;
                var ip = h.Kind == HostPattern.PatternKind.General && h.Address != null ? MatchIp(h.Address, _in.Client) : Tri.No;
                return ip == Tri.Yes || ip == Tri.Pending ? ip : Failed("the reverse lookup of " + _in.Client.Text + " failed");
            }
            switch (h.Kind)
            {
                case HostPattern.PatternKind.Known: return name != null ? Tri.Yes : Tri.No;
                case HostPattern.PatternKind.Unknown: return name == null ? Tri.Yes : Tri.No;
                case HostPattern.PatternKind.NameServers: return MatchNameServers(h.NameServers, name ?? _in.ReverseZoneName);
            }
            // A peer without a name has no name to glob: the original's "UNKNOWN" placeholder is not matched
            // as text (fixed). '*' and ALL still match it through the IP matcher below.
            var byName = name != null || h.Name.IsAll ? Match(h.Name, name) : Tri.No;
            if (byName == Tri.Yes || h.Address == null) return byName;
            var byAddress = MatchIp(h.Address, _in.Client);
            return byAddress == Tri.No ? byName : byAddress;
        }

        Tri MatchIp(IpPattern p, PeerAddress address) =>
            p.Kind == IpPattern.PatternKind.Dnsbl ? MatchDnsbl(p, address) : p.MatchesAddress(address) ? Tri.Yes : Tri.No;

        Tri MatchNameServers(NsPattern p, string domain)
        {
            if (!_ruleSession.TryGet(RuleSession.FactKind.NameServers, domain, out var f)) return Pending(RuleSession.FactKind.NameServers, domain);
            var facts = (RuleSession.NameServerFacts)f;
            var set = facts.Set;
            if (set.Outcome == LookupOutcome.Failed) return Failed(set.Error ?? "name-server lookup for '" + domain + "' failed");

            if (p.Kind != NsPattern.PatternKind.General)
            {
                if (!_ruleSession.TryGet(RuleSession.FactKind.Host, domain, out var h)) return Pending(RuleSession.FactKind.Host, domain);
                var host = (HostAddresses)h;
                if (host.Outcome == LookupOutcome.Failed) return Failed("address lookup for '" + domain + "' failed");
                bool resolves = host.Outcome == LookupOutcome.Found;
                bool uncropped = set.Names.Count > 0 && set.Crops == 0;
                bool known = resolves || uncropped;   // reference §2.4 crop rule
                return (p.Kind == NsPattern.PatternKind.Known) == known ? Tri.Yes : Tri.No;
            }
            // Any address or name matching for certain decides; a failed DNSBL or regex on one of them
            // leaves the token unknown only if nothing else matches.
            var any = Tri.No;
            foreach (var peer in facts.Peers)
            {
                var r = MatchIp(p.Addresses, peer);
                if (r == Tri.Yes || r == Tri.Pending) return r;
                if (r != Tri.No) any = r;
            }
            foreach (var n in set.Names)
            {
                var r = Match(p.Names, n);
                if (r == Tri.Yes) return r;
                if (r != Tri.No) any = r;
            }
            return any;
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
                case AddressToken.TokenKind.Spf:
                    return MatchSpf(t);
            }
            if (m.Local == null) return Tri.No;   // L@R never matches an address without '@'
            Tri local;
            if (t.LocalIsUser && _identAsked && _identFailure != null)
                local = Failed(_identFailure);
            else if (t.LocalIsUser)
                // Ident is compared as literal text, never as a pattern (reference §7.4 fixed).
                // An ident with '*' never stands in for USER (reference §2.3).
                local = _identAsked && _ident != null && _ident.IndexOf('*') < 0
                        && string.Equals(m.Local, _ident, StringComparison.OrdinalIgnoreCase) ? Tri.Yes : Tri.No;
            else
                local = Match(t.Local, m.Local);
            if (local == Tri.No) return local;
            var domain = t.NameServers != null ? MatchNameServers(t.NameServers, m.Domain) : Match(t.Domain, m.Domain);
            return domain == Tri.Pending ? domain : And(local, domain);
        }
    }
}
