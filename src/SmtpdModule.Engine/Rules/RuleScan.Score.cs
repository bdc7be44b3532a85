using System.Collections.Generic;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The <c>SCORE.name&gt;=N</c> token: the weighted sum of a score definition's DNSBL answers.</summary>
    internal partial struct RuleScan
    {
        /// <summary>One score as computed for this client.</summary>
        internal sealed class ScoreResult
        {
            public ScoreDefinition Definition;
            /// <summary>The sum of the weights of the lists that answered "listed".</summary>
            public int Value;
            /// <summary>The least and greatest sums the failed lookups allow (equal to Value when none failed).</summary>
            public int Least, Most;
            /// <summary>"zen.spamhaus.org=127.0.0.4 +3, list.dnswl.org=127.0.10.2 -2 = 1".</summary>
            public string Detail;
            public string Failure;
        }

        /// <remarks>
        /// Each zone is asked once per session, all of one score's zones at once (health first, then the
        /// DNSBL questions), and the result is kept for the rest of the scan. An unhealthy zone is not
        /// asked and adds 0, like an unhealthy RBL. token. A failed lookup adds 0, as Postfix's postscreen
        /// reads a failed query as "not listed"; when the failure could decide whether the threshold is
        /// reached (a failed blocklist with the rest just below it, a failed allowlist with the rest at or
        /// above it) the token is uncertain, and the evaluator's lookup-failure rules apply: the line is
        /// passed over, a refusal it could have changed is deferred (451 4.4.3), and a failure never
        /// makes a line match, so it never opens the door.
        /// </remarks>
        Tri MatchScore(ScoreTest test)
        {
            var result = ScoreOf(test.Definition);
            if (result == null) return Tri.Pending;
            _lineScore = (result, test.Threshold);
            var verdict = result.Least >= test.Threshold ? Tri.Yes
                        : result.Most < test.Threshold ? Tri.No
                        : Failed(result.Failure + ": score " + result.Definition.Name + " is " + result.Least + " to " + result.Most + ", threshold " + test.Threshold);
            Note(ScoreTest.Prefix + test.Name + ">=" + test.Threshold + ": " + result.Detail
                 + (verdict == Tri.Yes ? ", reaches " : verdict == Tri.No ? ", below " : ", uncertain against ") + test.Threshold);
            return verdict;
        }

        ScoreResult ScoreOf(ScoreDefinition definition)
        {
            if (_scores != null)
                foreach (var s in _scores) if (s.Definition == definition) return s;

            var entries = definition.Entries;
            List<string> missing = null;
            foreach (var e in entries)
                if (!_ruleSession.TryGet(RuleSession.FactKind.DnsblHealth, e.Zone, out _)) Want(ref missing, e.Zone);
            if (missing != null) { PendingAll(RuleSession.FactKind.DnsblHealth, missing); return null; }
            foreach (var e in entries)
                if (Healthy(e) && !_ruleSession.TryGet(RuleSession.FactKind.Dnsbl, Query(e), out _)) Want(ref missing, Query(e));
            if (missing != null) { PendingAll(RuleSession.FactKind.Dnsbl, missing); return null; }

            var result = new ScoreResult { Definition = definition };
            var parts = new List<string>();
            int least = 0, most = 0;
            foreach (var e in entries)
            {
                var weight = (e.Weight > 0 ? "+" : "") + e.Weight;
                if (!Healthy(e)) { parts.Add(e.Zone + " unhealthy 0"); continue; }
                _ruleSession.TryGet(RuleSession.FactKind.Dnsbl, Query(e), out var f);
                var answer = (DnsblAnswer)f;
                if (answer.Outcome == LookupOutcome.Failed)
                {
                    parts.Add(e.Zone + " failed 0");
                    if (e.Weight > 0) most += e.Weight; else least += e.Weight;
                    if (result.Failure == null) result.Failure = "DNSBL lookup " + Query(e) + " failed";
                    continue;
                }
                foreach (var listed in answer.Listings)
                {
                    if (e.List.DnsblAnswerFilter != null && !e.List.DnsblAnswerFilter.Matches(listed)) continue;
                    result.Value += e.Weight;
                    parts.Add(e.Zone + "=" + listed + " " + weight);
                    break;   // one listing per entry, whatever the list answered
                }
            }
            result.Least = result.Value + least;
            result.Most = result.Value + most;
            result.Detail = (parts.Count == 0 ? "listed nowhere" : string.Join(", ", parts)) + " = " + result.Value;
            (_scores ?? (_scores = new List<ScoreResult>())).Add(result);
            return result;
        }

        bool Healthy(ScoreEntry e)
        {
            _ruleSession.TryGet(RuleSession.FactKind.DnsblHealth, e.Zone, out var h);
            return DnsblHealth.UnhealthyReason((string)h) == null;
        }

        string Query(ScoreEntry e) => ReverseNames.DnsblName(_in.Client.Address, e.Zone);

        static void Want(ref List<string> names, string name)
        {
            if (names == null) names = new List<string>();
            foreach (var n in names) if (string.Equals(n, name, System.StringComparison.OrdinalIgnoreCase)) return;
            names.Add(name);
        }

        void PendingAll(RuleSession.FactKind kind, List<string> names)
        {
            PendingKind = kind;
            PendingName = names[0];
            PendingNames = names;
        }

        /// <summary>The decision with the score the deciding line tested, else the first one computed.</summary>
        RuleDecision Scored(RuleDecision decision)
        {
            if (decision.Greylist == null) decision.Greylist = _grey;
            (ScoreResult Result, int? Threshold) s = _lineScore.Result != null ? _lineScore : _scores != null ? (_scores[0], (int?)null) : default;
            if (s.Result == null) return decision;
            decision.Score = s.Result.Value;
            decision.ScoreDetail = s.Result.Definition.Name + ": " + s.Result.Detail
                + (s.Threshold != null ? " (threshold " + s.Threshold + ")" : "")
                + (s.Result.Least != s.Result.Most ? " (" + s.Result.Least + " to " + s.Result.Most + " had the failed lookups answered)" : "");
            return decision;
        }
    }
}
