namespace SmtpdModule.Engine.Rules
{
    /// <summary>One finding about a rules file, located by line and column (both 1-based).</summary>
    public sealed class RuleDiagnostic
    {
        public RuleDiagnostic(DiagnosticSeverity severity, string code, string path, int line, int column, string message)
        {
            Severity = severity;
            Code = code;
            Path = path;
            Line = line;
            Column = column;
            Message = message;
        }

        public DiagnosticSeverity Severity { get; }
        /// <summary>A stable identifier (see <see cref="RuleDiagnosticCodes"/>): scripts and tests match on it, not on the message.</summary>
        public string Code { get; }
        public string Path { get; }
        public int Line { get; }
        public int Column { get; }
        public string Message { get; }

        /// <summary>The compiler-style form: <c>file:line:column: warning: message</c>.</summary>
        public override string ToString() =>
            (Path ?? "<rules>") + ":" + Line + ":" + Column + ": " +
            (Severity == DiagnosticSeverity.Error ? "error" : "warning") + ": " + Message;
    }
}
