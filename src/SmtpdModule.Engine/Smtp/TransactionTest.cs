using System.Collections.Generic;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>What <see cref="RuleTester.RunAsync"/> found: every stage the proxy would reach, and one decision per recipient.</summary>
    public sealed class TransactionTest
    {
        internal TransactionTest(IReadOnlyList<StageVerdict> stages, IReadOnlyList<RuleDecision> decisions, string reverseLookup)
        {
            Stages = stages;
            Decisions = decisions;
            ReverseLookup = reverseLookup;
        }

        /// <summary>The commands in order, each with its verdict; none after one that closes the session.</summary>
        public IReadOnlyList<StageVerdict> Stages { get; }
        /// <summary>One per recipient, in the order given (<see cref="RuleDecision.Reached"/> false for those after a close).</summary>
        public IReadOnlyList<RuleDecision> Decisions { get; }
        /// <summary>The stages one recipient went through: connect, EHLO, MAIL and its own RCPT (none when the
        /// session had closed before it).</summary>
        public IReadOnlyList<StageVerdict> StagesOf(int recipient)
        {
            var list = new List<StageVerdict>();
            int seen = 0;
            foreach (var s in Stages)
            {
                if (s.Stage != PolicyStage.Rcpt) list.Add(s);
                else if (seen++ == recipient) list.Add(s);
            }
            return list;
        }

        /// <summary>How the reverse name was found, when it was looked up; null otherwise.</summary>
        public string ReverseLookup { get; }
    }
}
