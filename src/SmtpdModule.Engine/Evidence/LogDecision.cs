using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// A <c>decision</c> line of the proxy's log: why one command (connect, HELO, MAIL, RCPT, end of
    /// data) was accepted or refused, with the facts the checks saw. <see cref="Record"/> holds the
    /// whole <see cref="DecisionRecord"/>, which a replay decides again on.
    /// </summary>
    public sealed class LogDecision : LogEvent
    {
        internal LogDecision(string path, long lineNumber, string client, string message, IReadOnlyDictionary<string, object> data, DecisionRecord record)
            : base(path, lineNumber, record.Time, DecisionRecordReader.EventName, record.Session, record.ClientAddress ?? client, message, data)
        {
            Record = record;
            Reply = record.Replies.Count > 0 ? record.Replies[0] : null;
            Outcome = DecisionOutcomes.Of(record.Kind, Reply);
        }

        public DecisionRecord Record { get; }
        public PolicyStage Stage => Record.Stage;
        /// <summary>The verdict as the pipeline gave it: Continue, Reject, TempFail, Close or Delay.</summary>
        public VerdictKind Verdict => Record.Kind;
        /// <summary>Accepted, Refused or Deferred.</summary>
        public DecisionOutcome Outcome { get; }
        /// <summary>The first line of the reply the client got; null when the command simply went on.</summary>
        public string Reply { get; }
        public IReadOnlyList<string> Replies => Record.Replies;
        public string Reason => Record.Reason;
        /// <summary>The client's reverse name as the rules saw it.</summary>
        public string Name => Record.ClientName;
        public string Helo => Record.Helo;
        /// <summary>The sender as the client gave it, brackets included.</summary>
        public string From => Record.From;
        /// <summary>The recipient as the client gave it, brackets included; null before RCPT.</summary>
        public string To => Record.To;
        /// <summary>The rules' action (Allow, Noto, Deny, Defer); null when the rules were not asked.</summary>
        public string Action => Record.Action;
        public string Basis => Record.Basis;
        /// <summary>The rules file's line that decided; null when none did (a default, a failed check).</summary>
        public int? Line => Record.Line;
        public string Rule => Record.Rule;
        public string RulesPath => Record.RulesPath;
        public string RulesSha256 => Record.RulesSha256;
        public int? Score => Record.Score;
        public IReadOnlyList<Fact> Facts => Record.Facts;
        public IReadOnlyDictionary<string, string> Results => Record.Results;
        public IReadOnlyList<string> FailedTests => Record.FailedTests;
    }
}
