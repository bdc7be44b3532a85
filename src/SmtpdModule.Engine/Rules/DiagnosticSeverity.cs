namespace SmtpdModule.Engine.Rules
{
    public enum DiagnosticSeverity
    {
        /// <summary>The file is refused.</summary>
        Error,
        /// <summary>The file loads and behaves as the original would, but probably not as intended.</summary>
        Warning,
    }
}
