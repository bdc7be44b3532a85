using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>The counts of a <see cref="RuleHitCounter"/> at one moment: one row per rule line in file
    /// order, then one per way of deciding without a line, and their totals per verdict.</summary>
    public sealed class RuleHitSnapshot
    {
        /// <exception cref="ArgumentNullException"><paramref name="lines"/> or <paramref name="others"/> is null.</exception>
        public RuleHitSnapshot(string rulesPath, string rulesSha256, DateTimeOffset taken, IReadOnlyList<RuleHit> lines, IReadOnlyList<RuleHit> others)
        {
            RulesPath = rulesPath;
            RulesSha256 = rulesSha256;
            Taken = taken;
            Lines = lines ?? throw new ArgumentNullException(nameof(lines));
            Others = others ?? throw new ArgumentNullException(nameof(others));
            foreach (var list in new[] { lines, others })
                foreach (var h in list)
                {
                    Accepted += h.Accepted;
                    Refused += h.Refused;
                    Deferred += h.Deferred;
                    Closed += h.Closed;
                }
        }

        public string RulesPath { get; }
        /// <summary>The SHA-256 of the rules the lines are of.</summary>
        public string RulesSha256 { get; }
        public DateTimeOffset Taken { get; }
        /// <summary>One row per rule line, in file order.</summary>
        public IReadOnlyList<RuleHit> Lines { get; }
        /// <summary>One row per <see cref="RuleHitBasis"/> other than Rule: the decisions no line made.</summary>
        public IReadOnlyList<RuleHit> Others { get; }

        /// <summary>The lines, then the others: every row.</summary>
        public IEnumerable<RuleHit> All
        {
            get
            {
                foreach (var h in Lines) yield return h;
                foreach (var h in Others) yield return h;
            }
        }

        public long Accepted { get; }
        public long Refused { get; }
        public long Deferred { get; }
        public long Closed { get; }
        public long Total => Accepted + Refused + Deferred + Closed;
    }
}
