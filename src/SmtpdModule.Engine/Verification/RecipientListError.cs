namespace SmtpdModule.Engine.Verification
{
    /// <summary>One malformed line of a recipient list: where (1-based line and column, in characters
    /// of the decoded line) and what.</summary>
    public sealed class RecipientListError
    {
        public RecipientListError(int line, int column, string reason)
        {
            Line = line;
            Column = column;
            Reason = reason;
        }

        /// <summary>1-based; 0 when the file itself could not be read.</summary>
        public int Line { get; }
        /// <summary>1-based; 0 when the file itself could not be read.</summary>
        public int Column { get; }
        /// <summary>What is wrong, without the place: "the domain is missing after '@'".</summary>
        public string Reason { get; }

        /// <summary><c>path:line:column: reason</c>, the form editors jump to.</summary>
        public string Format(string path) =>
            (path ?? "<list>") + (Line > 0 ? ":" + Line + ":" + Column : "") + ": " + Reason;

        public override string ToString() => Format(null);
    }
}
