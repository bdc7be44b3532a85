namespace SmtpdModule.Engine.Rules
{
    /// <summary>One line of an explained evaluation (Test-SmtpdRule -Explain): why the line did or did not match.</summary>
    public sealed class RuleTrace
    {
        internal RuleTrace(int lineNumber, string rule, RuleTraceResult result, RuleListKind? failedList, string matchedToken, string note)
        {
            LineNumber = lineNumber;
            Rule = rule;
            Result = result;
            FailedList = failedList;
            MatchedToken = matchedToken;
            Note = note;
        }

        public int LineNumber { get; }
        public string Rule { get; }
        public RuleTraceResult Result { get; }
        /// <summary>The first list that did not match; null when all matched or the line was not reached.</summary>
        public RuleListKind? FailedList { get; }
        /// <summary>The tokens that matched, one per list that matched (<c>source=…; from=…</c>).</summary>
        public string MatchedToken { get; }
        public string Note { get; }

        public override string ToString() => LineNumber + " " + Result + (FailedList != null ? " (" + FailedList + ")" : "") + (Note != null ? ": " + Note : "");
    }

    public enum RuleTraceResult
    {
        /// <summary>All three lists matched and the line decided.</summary>
        Decided,
        /// <summary>All three lists matched on a debug line: logged, evaluation went on.</summary>
        DebugMatched,
        /// <summary>A list did not match.</summary>
        NoMatch,
        /// <summary>A lookup or regex could not complete: the line was passed over as if it did not match,
        /// or (when it would have refused) the recipient was deferred.</summary>
        Failed,
        /// <summary>An earlier line decided.</summary>
        NotReached,
        /// <summary>All three lists matched on a grey line whose sender has proven it retries (or is
        /// allowed): evaluation went on.</summary>
        GreyPassed,
    }
}
