using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Spf;

namespace SmtpdModule.Engine.Rules
{
    internal partial struct RuleScan
    {
        /// <summary>The grey line that matched and let the recipient through, carried into the decision.</summary>
        GreylistCheck _grey;

        /// <summary>
        /// A matching <c>grey</c> line: refuses (a first try, a retry too early, a trapped client)
        /// with a decision, or lets evaluation go on (null) for a sender that proved it retries, an
        /// auto-allowed client, or a state store that cannot be read. <paramref name="pending"/>: a
        /// fact is asked for (the SPF result, then the three state keys at once).
        /// </summary>
        RuleDecision Grey(Rule rule, string tokens, out bool pending)
        {
            pending = false;
            var o = _evaluator.Options.Greylist;
            if (!HaveSpf()) { pending = true; return null; }
            // A sender whose domain authorises the client is keyed by that domain: a pool retrying
            // from any address the domain allows is the same sender.
            var identity = _spf.Result == SpfResult.Pass && !string.IsNullOrEmpty(_spf.Domain)
                ? "d:" + _spf.Domain.ToLowerInvariant()
                : "n:" + GreylistKeys.Network(_in.Client, o);
            var trapKey = GreylistKeys.Trap(_in.Client);
            var allowKey = GreylistKeys.Allow(identity);
            var tripletKey = GreylistKeys.Triplet(identity, _in.From.Address, _in.To.Address);
            if (!_ruleSession.TryGet(RuleSession.FactKind.State, tripletKey, out var triplet)
                || !_ruleSession.TryGet(RuleSession.FactKind.State, allowKey, out var allowed)
                || !_ruleSession.TryGet(RuleSession.FactKind.State, trapKey, out var trapped))
            {
                PendingKind = RuleSession.FactKind.State;
                PendingNames = new List<string> { trapKey, allowKey, tripletKey };
                pending = true;
                return null;
            }

            var now = _in.Time;
            DateTimeOffset? first = null;
            GreylistState state;
            var failure = (trapped as RuleSession.StateReadFailure ?? allowed as RuleSession.StateReadFailure ?? triplet as RuleSession.StateReadFailure)?.Reason;
            if (failure != null) state = GreylistState.Unavailable;
            else if (trapped != null) state = GreylistState.Trapped;
            else if (o.AutoAllowAfter > 0 && StateInteger(allowed) >= o.AutoAllowAfter) state = GreylistState.AutoAllowed;
            else if (!GreylistCheck.TryParseTriplet(triplet as string, out var f, out var passed, out _, out _, out _)
                     || passed == null && now - f >= o.RetryWindow)
                state = GreylistState.FirstSeen;
            else
            {
                first = f;
                state = passed != null ? GreylistState.Proven : now - f < o.Delay ? GreylistState.TooEarly : GreylistState.Passed;
            }

            bool refuses = state == GreylistState.FirstSeen || state == GreylistState.TooEarly || state == GreylistState.Trapped
                           || state == GreylistState.Unavailable && o.FailMode == State.StateFailMode.Closed;
            bool trapHit = refuses && state != GreylistState.Trapped && IsGreytrap(o, _in.To.Address);
            var check = new GreylistCheck(rule.LineNumber, state, identity, tripletKey, allowKey, trapKey, first, trapHit, now,
                                          _in.Client.Text, _in.From.Address, _in.To.Address);
            if (!refuses)
            {
                if (_grey == null) _grey = check;
                _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.GreyPassed, null, tokens,
                    check + (failure != null ? ": " + failure + "; the line is passed over" : "; evaluation goes on")));
                return null;
            }
            _trace?.Add(new RuleTrace(rule.LineNumber, rule.Text, RuleTraceResult.Decided, null, tokens,
                check + (failure != null ? ": " + failure + " (fail mode Closed)" : "")));
            var wait = state == GreylistState.TooEarly ? o.Delay - (now - first.Value) : o.Delay;
            var reply = state == GreylistState.Unavailable ? "451 4.3.0 Greylisting is unavailable, please try again later"
                      : rule.Message != null ? Render(rule.Message)
                      : state == GreylistState.Trapped ? "450 4.7.1 " + _in.Client.Text + " is refused for a while, try again later"
                      : "450 4.7.1 Greylisted, please try again in " + Describe(wait);
            var decision = new RuleDecision(_in, RuleAction.Grey, rule, reply, TimeSpan.Zero, DecisionBasis.Rule, Failures(null), IdentUsed, _debug, _trace, _evaluator.RuleSet.Path);
            decision.Greylist = check;
            return Scored(decision);
        }

        static bool IsGreytrap(GreylistOptions o, string recipient)
        {
            foreach (var trap in o.Greytraps)
                if (string.Equals(trap, recipient, StringComparison.OrdinalIgnoreCase)) return true;
            return false;
        }

        static long StateInteger(object value) =>
            value is string s && State.StateInteger.TryParse(s, out var n) ? n : 0;

        /// <summary>"5 minutes", "1 minute", "30 seconds": how long a sender waits, rounded up.</summary>
        static string Describe(TimeSpan wait)
        {
            if (wait < TimeSpan.FromMinutes(1))
            {
                var s = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
                return s + (s == 1 ? " second" : " seconds");
            }
            var m = (int)Math.Ceiling(wait.TotalMinutes);
            return m + (m == 1 ? " minute" : " minutes");
        }
    }
}
