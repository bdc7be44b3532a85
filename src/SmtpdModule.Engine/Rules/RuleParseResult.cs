using System.Collections.Generic;
using System.Linq;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>What the parser found: the rules it could compile and every diagnostic.</summary>
    public sealed class RuleParseResult
    {
        internal RuleParseResult(string path, IReadOnlyList<Rule> rules, IReadOnlyList<RuleDiagnostic> diagnostics, IReadOnlyList<ScoreDefinition> scores = null)
        {
            Scores = scores ?? new ScoreDefinition[0];
            Path = path;
            Rules = rules;
            Diagnostics = diagnostics;
        }

        public string Path { get; }
        public IReadOnlyList<Rule> Rules { get; }
        public IReadOnlyList<RuleDiagnostic> Diagnostics { get; }
        /// <summary>The score definitions, in file order.</summary>
        public IReadOnlyList<ScoreDefinition> Scores { get; }
        public bool HasErrors => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Error);
    }
}
