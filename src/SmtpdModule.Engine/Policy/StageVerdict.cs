using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>One command of a transaction and the verdict on it, as Test-SmtpdRule -EachStage writes it.</summary>
    public sealed class StageVerdict
    {
        public StageVerdict(string command, Verdict verdict)
        {
            Command = command;
            Verdict = verdict ?? throw new ArgumentNullException(nameof(verdict));
        }

        public PolicyStage Stage => Verdict.Stage;
        /// <summary>The command line as the client sends it; null for Connect.</summary>
        public string Command { get; }
        public VerdictKind Kind => Verdict.Kind;
        /// <summary>Every reply line the proxy writes for the command, without CRLF.</summary>
        public IReadOnlyList<string> Replies => Verdict.Replies;
        public string Reason => Verdict.Reason;
        public TimeSpan Delay => Verdict.Delay;
        public int? LineNumber => Verdict.LineNumber;
        public string Rule => Verdict.Rule;
        /// <summary>The rules' decision, for a RCPT the rules (or the address check) decided.</summary>
        public RuleDecision Decision => Verdict.Decision;
        public Verdict Verdict { get; }

        public override string ToString() => Stage + (Command != null ? " '" + Command + "'" : "") + ": " + string.Join(" / ", Replies);
    }
}
