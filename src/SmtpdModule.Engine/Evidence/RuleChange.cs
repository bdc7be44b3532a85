using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// One logged decision that a candidate policy decides differently: the transaction, and the
    /// outcome, line and reply before (as logged) and after (as replayed).
    /// </summary>
    public sealed class RuleChange
    {
        internal RuleChange(DecisionRecord record, Verdict after, IReadOnlyList<string> unrecorded)
        {
            Record = record;
            Before = TransactionOutcomes.Of(record.Kind);
            After = TransactionOutcomes.Of(after.Kind);
            AfterStage = after.Stage;
            AfterLine = after.LineNumber;
            AfterRule = after.Rule;
            AfterReply = after.Replies.Count > 0 ? after.Replies[0] : null;
            AskedLive = unrecorded;
        }

        public DateTimeOffset Time => Record.Time;
        public string Session => Record.Session;
        public string ClientAddress => Record.ClientAddress;
        public string ClientName => Record.ClientName;
        public string Helo => Record.Helo;
        public string From => Record.From;
        public string To => Record.To;

        public TransactionOutcome Before { get; }
        /// <summary>The line that decided in the log; null when none did (a default, a check, or an imported log).</summary>
        public int? BeforeLine => Record.Line;
        public string BeforeRule => Record.Rule;
        public string BeforeReply => Record.Replies.Count > 0 ? Record.Replies[0] : null;

        public TransactionOutcome After { get; }
        /// <summary>The stage that decided in the replay: MAIL when the candidate refuses the sender.</summary>
        public PolicyStage AfterStage { get; }
        public int? AfterLine { get; }
        public string AfterRule { get; }
        public string AfterReply { get; }

        /// <summary>The questions the record did not hold ("Dns name A"): asked of DNS when the comparison
        /// had live facts, failed as lookups otherwise. With <c>-Live</c> every DNS question is asked
        /// again, and only the others are listed.</summary>
        public IReadOnlyList<string> AskedLive { get; }

        /// <summary>The logged decision, every field and fact.</summary>
        public DecisionRecord Record { get; }

        public override string ToString() =>
            To + ": " + Before + (BeforeLine != null ? " (line " + BeforeLine + ")" : "") + " -> " + After + (AfterLine != null ? " (line " + AfterLine + ")" : "");
    }
}
