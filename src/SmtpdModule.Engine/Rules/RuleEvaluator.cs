using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

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
    /// restarted scan reaches the same point and goes further.
    /// <para>
    /// A token whose lookup fails (DNS timeout, SERVFAIL, REFUSED, a regex timeout) does not
    /// match, as in the original (a DNSBL failure means "not listed"), and the scan goes on. Beside
    /// that reading the scan keeps a three-valued one (Kleene: a failed token is "unknown"), so it
    /// knows which lines a failure could have changed. A failure may never open the door or refuse
    /// good mail for ever: when the deciding refusal could have been an acceptance, when the line
    /// that decided matched only because a lookup failed and it refuses, or when no line matched and
    /// some line was uncertain, the answer is <see cref="RuleAction.Defer"/> (451 4.4.3), never
    /// the default action. Unlike the original, a failure does not poison later checks of the
    /// session (reference §1.4, §9).
    /// </para>
    /// </remarks>
    public sealed class RuleEvaluator
    {
        public RuleEvaluator(RuleSet ruleSet, RuleEvaluationOptions options = null)
        {
            RuleSet = ruleSet ?? throw new ArgumentNullException(nameof(ruleSet));
            Options = options ?? RuleEvaluationOptions.Default;
        }

        public RuleSet RuleSet { get; }
        public RuleEvaluationOptions Options { get; }

        /// <summary>Decides without waiting: false when the decision needs a fact the session does not have yet.</summary>
        public bool TryEvaluate(RuleInput input, RuleSession session, out RuleDecision decision)
        {
            if (input == null) throw new ArgumentNullException(nameof(input));
            if (session == null) throw new ArgumentNullException(nameof(session));
            session.BeginCheck();
            var scan = new RuleScan(this, input, session, null);
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
                var scan = new RuleScan(this, input, session, explain ? new List<RuleTrace>() : null);
                var decision = scan.Run();
                if (decision != null) return decision;
                if (fetched >= RuleSession.LookupsPerCheckLimit)
                    return scan.Undecidable(null, "more than " + RuleSession.LookupsPerCheckLimit + " lookups in one check");
                if (scan.PendingNames != null)
                    await session.FetchAllAsync(scan.PendingKind, scan.PendingNames, cancellationToken).ConfigureAwait(false);
                else
                    await session.FetchAsync(scan.PendingKind, scan.PendingName, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
