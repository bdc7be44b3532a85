namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>One row of a report's tally: what was counted (a reason, a client, a sender, a
    /// greylisting state), a detail beside it (the client's name, the source that answered), and how often.</summary>
    public sealed class ReportCount
    {
        public ReportCount(string key, string detail, long count)
        {
            Key = key;
            Detail = detail;
            Count = count;
        }

        public string Key { get; }
        /// <summary>What goes with the key: a client's verified name, the check that answered; null when nothing does.</summary>
        public string Detail { get; }
        public long Count { get; }

        public override string ToString() => Key + ": " + Count;
    }
}
