namespace SmtpdModule.Engine.Evidence
{
    /// <summary>A line an import could not parse, and why.</summary>
    public sealed class SkippedLine
    {
        /// <summary>Longer lines are cut to this many characters: a garbled line may be megabytes.</summary>
        public const int MaxTextLength = 500;

        public SkippedLine(long lineNumber, string text, string reason)
        {
            LineNumber = lineNumber;
            Text = text != null && text.Length > MaxTextLength ? text.Substring(0, MaxTextLength) : text;
            Reason = reason;
        }

        /// <summary>1 for the file's first line.</summary>
        public long LineNumber { get; }
        public string Text { get; }
        public string Reason { get; }

        public override string ToString() => "line " + LineNumber + ": " + Reason;
    }
}
