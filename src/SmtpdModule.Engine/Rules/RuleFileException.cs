using System;
using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A rules file was refused. Carries where, not just what: the first error's path, line and
    /// column, and every diagnostic found, so a caller can report them all.</summary>
    public sealed class RuleFileException : Exception
    {
        public RuleFileException(string path, IReadOnlyList<RuleDiagnostic> diagnostics, Exception inner = null)
            : base(BuildMessage(path, diagnostics), inner)
        {
            Path = path;
            Diagnostics = diagnostics;
            var first = diagnostics.FirstOrDefault(d => d.Severity == DiagnosticSeverity.Error);
            Line = first?.Line ?? 0;
            Column = first?.Column ?? 0;
            Code = first?.Code ?? RuleDiagnosticCodes.UnreadableFile;
        }

        public string Path { get; }
        public int Line { get; }
        public int Column { get; }
        /// <summary>The code of the first error (<see cref="RuleDiagnosticCodes"/>).</summary>
        public string Code { get; }
        public IReadOnlyList<RuleDiagnostic> Diagnostics { get; }

        static string BuildMessage(string path, IReadOnlyList<RuleDiagnostic> diagnostics)
        {
            var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count == 0) return (path ?? "<rules>") + ": the rules file was refused.";
            var text = errors[0].ToString();
            return errors.Count == 1 ? text : text + " (and " + (errors.Count - 1) + " more error" + (errors.Count == 2 ? "" : "s") + ")";
        }
    }
}
