using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The outcome of one RCPT check: what happens to <see cref="To"/>, and why.</summary>
    public sealed class RuleDecision
    {
        internal RuleDecision(RuleInput input, RuleAction action, Rule rule, string reply, TimeSpan delay, DecisionBasis basis,
                              string failure, string ident, IReadOnlyList<int> debugLines, IReadOnlyList<RuleTrace> explanation, string rulesPath)
        {
            Action = action;
            LineNumber = rule?.LineNumber;
            Rule = rule?.Text;
            Verb = rule?.Verb;
            Reply = reply;
            Delay = delay;
            Basis = basis;
            FailureReason = failure;
            From = input.From.Raw;
            To = input.To.Raw;
            ClientAddress = input.Client.Text;
            ClientName = input.ClientName;
            ReverseLookupNote = input.ReverseLookupNote;
            Ident = ident;
            DebugLines = debugLines ?? NoLines;
            Explanation = explanation;
            RulesPath = rulesPath;
        }

        static readonly int[] NoLines = new int[0];

        RuleDecision(RuleDecision allowed, RuleAction action, string reply, TimeSpan delay, DecisionBasis basis, string verification)
        {
            Action = action;
            LineNumber = allowed.LineNumber;
            Rule = allowed.Rule;
            Verb = allowed.Verb;
            Reply = reply;
            Delay = delay;
            Basis = basis;
            FailureReason = allowed.FailureReason;
            From = allowed.From;
            To = allowed.To;
            ClientAddress = allowed.ClientAddress;
            ClientName = allowed.ClientName;
            ReverseLookupNote = allowed.ReverseLookupNote;
            Ident = allowed.Ident;
            DebugLines = allowed.DebugLines;
            Explanation = allowed.Explanation;
            RulesPath = allowed.RulesPath;
            Score = allowed.Score;
            ScoreDetail = allowed.ScoreDetail;
            Greylist = allowed.Greylist;
            Verification = verification;
        }

        /// <summary>This allowed recipient after recipient verification: still allowed when the mailbox is
        /// known (or the fail mode accepts), otherwise refused (<see cref="RuleAction.Noto"/>) or deferred
        /// (<see cref="RuleAction.Defer"/>) with the verification's reply. The allowing line stays.</summary>
        internal RuleDecision Verified(string verification, RuleAction action = RuleAction.Allow, string reply = null) =>
            new RuleDecision(this, action, reply, TimeSpan.Zero, action == RuleAction.Allow ? Basis : DecisionBasis.RecipientVerification, verification);

        /// <summary>This decision unchanged, with why recipient verification was not asked (-Explain).</summary>
        internal RuleDecision VerificationNotAsked(string why) =>
            new RuleDecision(this, Action, Reply, Delay, Basis, "not asked: " + why);

        /// <summary>The proxy's address check refused the sender or recipient before the rules were asked.</summary>
        internal static RuleDecision AddressRefused(RuleInput input, string reply, string command, string rulesPath) =>
            new RuleDecision(input, RuleAction.Noto, null, reply, TimeSpan.Zero, DecisionBasis.AddressCheck, null, null, null, null, rulesPath)
            { AddressCheck = command };

        /// <summary>The reply to a recipient the rules could not decide because a lookup failed (RFC 3463 4.4.3).</summary>
        public const string DeferReply = "451 4.4.3 Recipient check could not complete (lookup failure), try again later";

        public RuleAction Action { get; }
        /// <summary>The deciding line; null for the default action.</summary>
        public int? LineNumber { get; }
        /// <summary>The deciding line's text; null for the default action.</summary>
        public string Rule { get; }
        /// <summary>The deciding line's action word (noto_delay and deny_delay included); null for the default.</summary>
        public RuleVerb? Verb { get; }
        /// <summary>The rendered reply line (without CRLF); null for Allow; <see cref="DeferReply"/> for Defer.</summary>
        public string Reply { get; }
        /// <summary>How long the proxy waits before answering (noto_delay, deny_delay).</summary>
        public TimeSpan Delay { get; }
        public DecisionBasis Basis { get; }
        /// <summary>The lookups that failed on the way, one per line ("line 3: DNSBL lookup … failed"); null when none did.</summary>
        public string FailureReason { get; }
        public string From { get; }
        public string To { get; }
        public string ClientAddress { get; }
        /// <summary>The verified reverse name the rules saw; null = UNKNOWN.</summary>
        public string ClientName { get; }
        /// <summary>How the reverse name was found or why the client is UNKNOWN; null when the name was given.</summary>
        public string ReverseLookupNote { get; }
        /// <summary>The ident answer the rules used; null when none was asked for or given.</summary>
        public string Ident { get; }
        /// <summary>Lines of matching <c>debug</c> rules passed on the way.</summary>
        public IReadOnlyList<int> DebugLines { get; }
        /// <summary>Per-line reasons, when asked for; otherwise null.</summary>
        public IReadOnlyList<RuleTrace> Explanation { get; }
        public string RulesPath { get; }
        /// <summary>
        /// The command (<c>MAIL</c> or <c>RCPT</c>) whose address check refused the transaction
        /// before the rules were asked (a percent hack, a source route, bad syntax); the reply is
        /// then the proxy's (<c>553 5.1.3 …</c>) and <see cref="Basis"/> is AddressCheck. Null when
        /// the addresses passed.
        /// </summary>
        public string AddressCheck { get; private set; }

        /// <summary>The client's DNSBL score (<c>score:</c> lines) the deciding line tested, else the first
        /// one the check computed; null when no <c>SCORE.</c> token was evaluated.</summary>
        public int? Score { get; internal set; }
        /// <summary>The score's name and the lists that made it: "spam: zen.spamhaus.org=127.0.0.4 +3,
        /// list.dnswl.org=127.0.10.2 -2 = 1 (threshold 3)"; unhealthy and failed lists show as 0. Null with <see cref="Score"/>.</summary>
        public string ScoreDetail { get; internal set; }

        /// <summary>What the <c>grey</c> line found: the one that refused (<see cref="RuleAction.Grey"/>), or
        /// the first that let the recipient through to a later line; null when no grey line matched.</summary>
        public GreylistCheck Greylist { get; internal set; }

        /// <summary>What recipient verification answered for an allowed recipient ("list: Known (line 3:
        /// sales-*@example.org)", "callahead: Unknown (550 5.1.1 ...) [cached]"), every source asked in
        /// order; under -Explain, why it was not asked ("not asked: the rules refused the recipient");
        /// otherwise null when none is configured or the rules did not allow the recipient.</summary>
        public string Verification { get; }

        /// <summary>
        /// False when an earlier recipient's deny (or too many errors) had closed the session, so the
        /// proxy would never hear this RCPT; the decision then says what the rules would say had the
        /// session been open. Always true in the proxy.
        /// </summary>
        public bool Reached { get; internal set; } = true;

        public override string ToString() => Action + " " + To + (LineNumber != null ? " (line " + LineNumber + ")" : " (" + Basis + ")") + (Reply != null ? ": " + Reply : "");
    }
}
