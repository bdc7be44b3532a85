using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>One compiled rule line: <c>action:source:from:to[:message[:comment]]</c>.</summary>
    public sealed class Rule
    {
        internal Rule(int index, int lineNumber, string text, RuleVerb verb, RuleList source, RuleList from, RuleList to,
                      ReplyTemplate message, IReadOnlyList<RuleDiagnostic> diagnostics)
        {
            Index = index;
            LineNumber = lineNumber;
            Text = text;
            Verb = verb;
            Source = source;
            From = from;
            To = to;
            Message = message;
            Diagnostics = diagnostics;
        }

        /// <summary>Position among the rules (0-based): first match means lowest index.</summary>
        internal int Index { get; }
        public int LineNumber { get; }
        /// <summary>The line as written (without its line ending).</summary>
        public string Text { get; }
        public RuleVerb Verb { get; }
        public RuleList Source { get; }
        public RuleList From { get; }
        public RuleList To { get; }
        /// <summary>The reply template of the message field; null when the line has none.</summary>
        public ReplyTemplate Message { get; }
        /// <summary>Warnings about this line.</summary>
        public IReadOnlyList<RuleDiagnostic> Diagnostics { get; private set; }

        internal void AddDiagnostic(RuleDiagnostic d)
        {
            var list = new List<RuleDiagnostic>(Diagnostics) { d };
            Diagnostics = list;
        }

        public RuleAction Action =>
            Verb == RuleVerb.Noto || Verb == RuleVerb.NotoDelay ? RuleAction.Noto
            : Verb == RuleVerb.Deny || Verb == RuleVerb.DenyDelay ? RuleAction.Deny
            : Verb == RuleVerb.Grey ? RuleAction.Grey
            : RuleAction.Allow;

        internal bool MatchesEverything => Source.MatchesEverything && From.MatchesEverything && To.MatchesEverything;

        public override string ToString() => LineNumber + ": " + Text;
    }
}
