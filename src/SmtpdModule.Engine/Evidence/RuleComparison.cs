using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Replays logged decisions against a candidate policy, one at a time, through the pipeline the
    /// proxy runs (<see cref="DecisionReplay"/>), and keeps the tally in <see cref="Summary"/>. Facts
    /// come from each record; a question a record does not hold goes to the live facts given, and the
    /// change says so. Not thread-safe: one reader feeds it in log order.
    /// </summary>
    public sealed class RuleComparison : IDisposable
    {
        readonly PolicyPipeline _candidate;
        readonly IFacts _live;
        readonly bool _askDnsLive;
        IDisposable _owned;

        /// <summary>A comparison against <paramref name="candidate"/> rules under <paramref name="policy"/>
        /// (the proxy's options: reverse lookup, forward confirmation, host name), asking <paramref name="dns"/> what a record does not hold (the resolver is
        /// made on the first such question, so a log that holds every fact never touches DNS).</summary>
        /// <param name="candidate">The rules to decide with.</param>
        /// <param name="evaluation">The rules' options (default action, lookup failures), as the proxy's.</param>
        /// <param name="policy">The proxy's policy options; null for its defaults.</param>
        /// <param name="dns">Where live questions go.</param>
        /// <param name="askDnsLive">Ask DNS every question again instead of using the recorded answers.</param>
        /// <exception cref="ArgumentNullException"><paramref name="candidate"/> or <paramref name="dns"/> is null.</exception>
        public static RuleComparison ForRules(RuleSet candidate, RuleEvaluationOptions evaluation, PolicyOptions policy, DnsResolverOptions dns, bool askDnsLive)
        {
            if (candidate == null) throw new ArgumentNullException(nameof(candidate));
            if (dns == null) throw new ArgumentNullException(nameof(dns));
            var options = policy ?? new PolicyOptions();
            var resolver = new LazyResolver(dns);
            // Ident cannot be asked again (the client is gone) and the live state store is not this replay's to read.
            var live = new LiveFacts(resolver, FixedIdentSource.None, (IStateStore)null);
            return new RuleComparison(new PolicyPipeline(new RuleEvaluator(candidate, evaluation), options), live, askDnsLive) { _owned = resolver };
        }

        /// <param name="candidate">The policy to decide with.</param>
        /// <param name="live">Answers what a record does not hold (and, with <paramref name="askDnsLive"/>,
        /// every DNS question); null fails those questions as a lookup failure would.</param>
        /// <param name="askDnsLive">Ask DNS again instead of using the recorded answers.</param>
        /// <exception cref="ArgumentNullException"><paramref name="candidate"/> is null.</exception>
        public RuleComparison(PolicyPipeline candidate, IFacts live = null, bool askDnsLive = false)
        {
            _candidate = candidate ?? throw new ArgumentNullException(nameof(candidate));
            _live = live;
            _askDnsLive = askDnsLive;
            Summary = new RuleComparisonSummary
            {
                CandidatePath = candidate.Evaluator.RuleSet.Path,
                CandidateSha256 = candidate.Evaluator.RuleSet.Sha256,
            };
        }

        public RuleComparisonSummary Summary { get; }

        public void Dispose() => _owned?.Dispose();

        // A rate limit's count that a record lacks is this one command's (RecordedFacts.CountAsync) and
        // is never asked of anyone: an imported log has none, and listing them would hide what was asked.
        static IReadOnlyList<string> Asked(IReadOnlyList<string> unrecorded)
        {
            bool counts = false;
            foreach (var q in unrecorded) counts |= IsCount(q);
            if (!counts) return unrecorded;   // nothing to leave out: no copy per decision
            var asked = new List<string>(unrecorded.Count);
            foreach (var q in unrecorded)
                if (!IsCount(q)) asked.Add(q);
            return asked;
        }

        const string CountPrefix = nameof(FactKind.Count) + " ";
        static bool IsCount(string question) => question.StartsWith(CountPrefix, StringComparison.Ordinal);

        /// <summary>Decides <paramref name="record"/> again; the change, or null when the outcome is the same.</summary>
        /// <exception cref="NotSupportedException">The record is of a stage a replay does not decide (counted as unreplayable).</exception>
        /// <exception cref="FormatException">The record holds what this engine cannot read (counted as unreplayable).</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> stopped a live lookup.</exception>
        public async Task<RuleChange> CompareAsync(DecisionRecord record, CancellationToken cancellationToken = default)
        {
            if (record == null) throw new ArgumentNullException(nameof(record));
            ReplayOutcome outcome;
            try
            {
                outcome = await DecisionReplay.RunAsync(record, _candidate, _live, _askDnsLive, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NotSupportedException || ex is FormatException)
            {
                Summary.Unreplayable++;
                throw;
            }
            var unrecorded = Asked(outcome.Unrecorded);
            if (_live != null && unrecorded.Count > 0) Summary.AskedLive++;
            var before = TransactionOutcomes.Of(record.Kind);
            var after = TransactionOutcomes.Of(outcome.Verdict.Kind);
            Summary.Add(before, after);
            return before == after ? null : new RuleChange(record, outcome.Verdict, unrecorded);
        }
    }
}
