using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// How many logged decisions a candidate policy decides as before and how many it changes,
    /// counted by direction ("Accepted->Refused"): the answer to "what would this rule have done
    /// to last week's mail" in one line.
    /// </summary>
    public sealed class RuleComparisonSummary
    {
        readonly long[,] _counts = new long[4, 4];

        public string CandidatePath { get; internal set; }
        public string CandidateSha256 { get; internal set; }
        /// <summary>Decisions replayed (unchanged and changed).</summary>
        public long Total { get; private set; }
        public long Unchanged { get; private set; }
        public long Changed => Total - Unchanged;
        /// <summary>Records that could not be replayed (not an IP client, an unknown protocol test); each was reported.</summary>
        public long Unreplayable { get; internal set; }
        /// <summary>Decisions that asked DNS for a question their record did not hold.</summary>
        public long AskedLive { get; internal set; }

        /// <summary>Changed decisions by direction, e.g. <c>Accepted->Refused</c>; directions with none are left out.</summary>
        public IReadOnlyDictionary<string, long> Changes
        {
            get
            {
                var map = new Dictionary<string, long>();
                for (int b = 0; b < 4; b++)
                    for (int a = 0; a < 4; a++)
                        if (a != b && _counts[b, a] > 0) map[(TransactionOutcome)b + "->" + (TransactionOutcome)a] = _counts[b, a];
                return map;
            }
        }

        /// <summary>How many went from <paramref name="before"/> to <paramref name="after"/>.</summary>
        public long Count(TransactionOutcome before, TransactionOutcome after) => _counts[(int)before, (int)after];

        internal void Add(TransactionOutcome before, TransactionOutcome after)
        {
            _counts[(int)before, (int)after]++;
            Total++;
            if (before == after) Unchanged++;
        }

        public override string ToString()
        {
            var sb = new StringBuilder();
            sb.Append(Total).Append(" decisions replayed: ").Append(Unchanged).Append(" unchanged, ").Append(Changed).Append(" changed");
            if (Changed > 0) sb.Append(" (").Append(string.Join(", ", Changes.Select(kv => kv.Key + " " + kv.Value))).Append(')');
            if (Unreplayable > 0) sb.Append("; ").Append(Unreplayable).Append(" not replayable");
            if (AskedLive > 0) sb.Append("; ").Append(AskedLive).Append(" asked DNS for facts the log did not hold");
            return sb.Append('.').ToString();
        }
    }
}
