using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// State of one parse: the diagnostics found so far, the current line's, and caches of
    /// compiled templates and lists. Real files repeat the same few fields (ALL, a message) on
    /// thousands of lines; compiling each distinct one once keeps a 100,000-line load fast.
    /// </summary>
    internal sealed class ParseContext
    {
        static readonly RuleDiagnostic[] NoDiagnostics = new RuleDiagnostic[0];

        readonly Dictionary<string, ReplyTemplate> _templates = new Dictionary<string, ReplyTemplate>(StringComparer.Ordinal);
        readonly Dictionary<string, RuleListParser.Compiled>[] _lists =
        {
            new Dictionary<string, RuleListParser.Compiled>(StringComparer.Ordinal),
            new Dictionary<string, RuleListParser.Compiled>(StringComparer.Ordinal),
            new Dictionary<string, RuleListParser.Compiled>(StringComparer.Ordinal),
        };
        int _line;
        List<RuleDiagnostic> _lineDiagnostics;

        public ParseContext(string path, RuleParseOptions options)
        {
            Path = path;
            Options = options;
        }

        public string Path { get; }
        public RuleParseOptions Options { get; }
        public List<RuleDiagnostic> Diagnostics { get; } = new List<RuleDiagnostic>();
        /// <summary>The score definitions so far, by name (case-insensitive).</summary>
        public Dictionary<string, ScoreDefinition> Scores { get; } = new Dictionary<string, ScoreDefinition>(StringComparer.OrdinalIgnoreCase);
        public bool LineHasError { get; private set; }
        public IReadOnlyList<RuleDiagnostic> LineDiagnostics => (IReadOnlyList<RuleDiagnostic>)_lineDiagnostics ?? NoDiagnostics;

        public void BeginLine(int line)
        {
            _line = line;
            _lineDiagnostics = null;
            LineHasError = false;
        }

        public void Report(DiagnosticSeverity severity, string code, int column, string message)
        {
            var d = new RuleDiagnostic(severity, code, Path, _line, column, message);
            Diagnostics.Add(d);
            (_lineDiagnostics ?? (_lineDiagnostics = new List<RuleDiagnostic>())).Add(d);
            LineHasError |= severity == DiagnosticSeverity.Error;
        }

        public ReplyTemplate Template(string text)
        {
            if (!_templates.TryGetValue(text, out var t)) _templates[text] = t = new ReplyTemplate(text);
            return t;
        }

        public Dictionary<string, RuleListParser.Compiled> Lists(RuleListKind kind) => _lists[(int)kind];
    }
}
