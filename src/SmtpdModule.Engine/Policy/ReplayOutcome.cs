using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>A recorded decision and the verdict the replay reached.</summary>
    public sealed class ReplayOutcome
    {
        internal ReplayOutcome(DecisionRecord record, Verdict verdict, IReadOnlyList<string> unrecorded)
        {
            Record = record;
            Verdict = verdict;
            Unrecorded = unrecorded;
        }

        public DecisionRecord Record { get; }
        public Verdict Verdict { get; }
        /// <summary>The questions the record could not answer (see <see cref="RecordedFacts.Unrecorded"/>).</summary>
        public IReadOnlyList<string> Unrecorded { get; }
        /// <summary>The client reads the same lines as it did.</summary>
        public bool SameReplies => Verdict.Replies.SequenceEqual(Record.Replies, StringComparer.Ordinal);
    }
}
