using System;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// How often one rule line (or one way of deciding without a line, <see cref="Basis"/>) decided a
    /// recipient on a running proxy, by verdict, since <see cref="Since"/>. What Get-SmtpdRuleHit writes.
    /// </summary>
    public sealed class RuleHit
    {
        /// <param name="line">The rule line; null for a row of decisions no line made.</param>
        /// <param name="rule">The line's text; null without a line.</param>
        /// <param name="action">The line's action; null without a line and for a <c>debug</c> line, which never decides.</param>
        /// <param name="basis">What decided: <see cref="RuleHitBasis.Rule"/> for a line.</param>
        /// <param name="accepted">Recipients accepted (250).</param>
        /// <param name="refused">Recipients refused for good (5xx), the session going on.</param>
        /// <param name="deferred">Recipients refused for now (4xx): grey lines, lookup failures.</param>
        /// <param name="closed">Recipients whose refusal closed the session (a deny line, an enforced protocol test).</param>
        /// <param name="since">When counting started for this row.</param>
        /// <param name="proxyId">The proxy's id in its process.</param>
        /// <param name="processId">The proxy's process.</param>
        public RuleHit(int? line, string rule, RuleAction? action, RuleHitBasis basis, long accepted, long refused, long deferred, long closed,
                       DateTimeOffset since, int proxyId, int processId)
        {
            Line = line;
            Rule = rule;
            Action = action;
            Basis = basis;
            Accepted = accepted;
            Refused = refused;
            Deferred = deferred;
            Closed = closed;
            Since = since;
            ProxyId = proxyId;
            ProcessId = processId;
        }

        /// <summary>The rule line; null for decisions no line made.</summary>
        public int? Line { get; }
        /// <summary>The line's text as written; null without a line.</summary>
        public string Rule { get; }
        /// <summary>The line's action; null without a line and for a <c>debug</c> line.</summary>
        public RuleAction? Action { get; }
        public RuleHitBasis Basis { get; }
        public long Accepted { get; }
        public long Refused { get; }
        public long Deferred { get; }
        public long Closed { get; }
        /// <summary>All recipients this row decided.</summary>
        public long Total => Accepted + Refused + Deferred + Closed;
        /// <summary>When counting started for this row: the proxy's start, or the reload that brought
        /// this line's text (a line whose text did not change keeps its count and its time).</summary>
        public DateTimeOffset Since { get; }
        public int ProxyId { get; }
        public int ProcessId { get; }

        public override string ToString() => (Line != null ? "line " + Line : Basis.ToString()) + ": " + Total;
    }
}
