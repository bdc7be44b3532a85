using System;
using System.Collections.Generic;
using System.Text;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// One stage's answer to one command: what happens, the reply lines the proxy writes, how long
    /// it waits before them, and why. The proxy's session, Test-SmtpdRule and a replay all read the
    /// same verdicts.
    /// </summary>
    public sealed class Verdict
    {
        static readonly string[] NoReplies = new string[0];

        internal Verdict(PolicyStage stage, VerdictKind kind, IReadOnlyList<string> replies, string reason,
                         TimeSpan delay = default, RuleDecision decision = null, MailPath path = null, bool clientError = false)
        {
            Stage = stage;
            Kind = kind;
            Replies = replies ?? NoReplies;
            _reason = reason;
            Delay = delay;
            Decision = decision;
            Path = path;
            IsClientError = clientError;
        }

        /// <summary>A verdict whose reason is written only when read.</summary>
        internal Verdict(PolicyStage stage, VerdictKind kind, IReadOnlyList<string> replies, LazyReason reason)
            : this(stage, kind, replies, (string)null)
        {
            _lazyReason = reason;
        }

        /// <summary>A reason that costs more to write than most readers of a verdict need.</summary>
        internal abstract class LazyReason
        {
            public abstract string Make();
        }

        string _reason;
        LazyReason _lazyReason;

        internal static Verdict Of(PolicyStage stage, VerdictKind kind, SmtpReply reply, string reason, TimeSpan delay = default,
                                   MailPath path = null, bool clientError = false) =>
            new Verdict(stage, kind, reply.Lines, reason, delay, null, path, clientError);

        public PolicyStage Stage { get; }
        public VerdictKind Kind { get; }
        /// <summary>Every reply line the proxy writes for this command, in order, without CRLF (a deny writes the
        /// rule's reply, then 421); for EHLO every line, the extensions too.</summary>
        public IReadOnlyList<string> Replies { get; }
        /// <summary>Why, in a few words (the rule line, an address problem, a lookup failure).</summary>
        public string Reason
        {
            get
            {
                if (_reason == null && _lazyReason != null) _reason = _lazyReason.Make();
                return _reason;
            }
        }
        /// <summary>How long the proxy waits before the replies (tarpit, noto_delay, deny_delay).</summary>
        public TimeSpan Delay { get; }
        /// <summary>The rules' decision at RCPT, with its line and evidence; null at the other stages and when an
        /// address check or a limit refused the recipient before the rules were asked.</summary>
        public RuleDecision Decision { get; }
        /// <summary>The deciding rule line; null when no line decided.</summary>
        public int? LineNumber => Decision?.LineNumber;
        /// <summary>The deciding rule line's text; null when no line decided.</summary>
        public string Rule => Decision?.Rule;

        /// <summary>The parsed sender or recipient a Continue at MAIL or RCPT takes into the transaction.</summary>
        public MailPath Path { get; }
        /// <summary>A client error (bad syntax): the session counts it towards its error limit.</summary>
        internal bool IsClientError { get; }
        /// <summary>A refusal the proxy's counters count (address and rule refusals, not limits).</summary>
        internal bool CountsAsRefusal { get; set; }
        /// <summary>A refusal by the session's message limits (SIZE, SMTPUTF8), which depend on the
        /// downstream: the proxy logs its decision record, so a replay can decide it again.</summary>
        internal bool DependsOnLimits { get; set; }
        /// <summary>An enforced protocol test closed the session, not the deciding line (which the decision still names).</summary>
        internal bool ByProtocolTest { get; set; }
        /// <summary>A check could not run (an internal fault, not the client's doing): for the proxy's error log.</summary>
        internal string Fault { get; set; }

        /// <summary>The command took effect: the session moves on as its state table says.</summary>
        public bool TakesEffect => Kind == VerdictKind.Continue || Kind == VerdictKind.Delay;

        /// <summary>The replies as the wire carries them.</summary>
        internal string ToWire()
        {
            if (Replies.Count == 1) return Replies[0] + "\r\n";
            var sb = new StringBuilder();
            foreach (var line in Replies) sb.Append(line).Append("\r\n");
            return sb.ToString();
        }

        public override string ToString() => Stage + " " + Kind + (Replies.Count > 0 ? ": " + string.Join(" / ", Replies) : "");
    }
}
