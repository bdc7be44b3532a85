namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>How often one rules-file line refused or deferred in a report's window. A line whose
    /// text changed between rules versions is two rows: the counts belong to the text that decided.</summary>
    public sealed class ReportRuleLine
    {
        public ReportRuleLine(int line, string rule, long refused, long deferred)
        {
            Line = line;
            Rule = rule;
            Refused = refused;
            Deferred = deferred;
        }

        public int Line { get; }
        public string Rule { get; }
        /// <summary>Refusals for good, a closed session's included.</summary>
        public long Refused { get; }
        public long Deferred { get; }
        public long Total => Refused + Deferred;
    }
}
