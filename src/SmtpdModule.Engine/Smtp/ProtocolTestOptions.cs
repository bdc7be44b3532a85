using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Rules;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// The protocol tests inside the session (Postfix's postscreen is the anchor): pregreet,
    /// improper pipelining, non-SMTP commands, bare newlines in commands. The defaults follow
    /// postscreen (greet action ignore, the deeper tests not enforced) and Postfix's smtpd, which
    /// by default drops a client that sends CONNECT, GET or POST (smtpd_forbidden_commands).
    /// </summary>
    public sealed class ProtocolTestOptions
    {
        /// <summary>postscreen_greet_wait is 6 s (2 s under stress) because postscreen hands good
        /// clients on only after the wait; the proxy is in-line and remembers a passing client for
        /// <see cref="PassTtl"/>, so a new client pays this once a day. 3 s still catches the
        /// bots that talk at once (most pregreeters send within a second of the connect).</summary>
        public static readonly TimeSpan DefaultGreetWait = TimeSpan.FromSeconds(3);

        public ProtocolTestAction PregreetAction { get; set; } = ProtocolTestAction.Ignore;
        public ProtocolTestAction PipeliningAction { get; set; } = ProtocolTestAction.Ignore;
        /// <summary>Enforce by default: an HTTP request or a mail header at the command level is never a
        /// mail client (a browser, a proxy abuser, a cross-protocol attack), as Postfix's smtpd holds.</summary>
        public ProtocolTestAction NonSmtpAction { get; set; } = ProtocolTestAction.Enforce;
        public ProtocolTestAction BareNewlineAction { get; set; } = ProtocolTestAction.Ignore;

        /// <summary>How long the greeting's teaser line waits for the client to speak out of turn. Zero: no pregreet test.</summary>
        public TimeSpan GreetWait { get; set; } = DefaultGreetWait;

        /// <summary>How long a client that passed the pregreet test skips it (postscreen_greet_ttl: 1 day).</summary>
        public TimeSpan PassTtl { get; set; } = TimeSpan.FromDays(1);

        /// <summary>Networks that skip every test (CIDR text: <c>192.0.2.0/24</c>, <c>2001:db8::/32</c>).</summary>
        public IList<string> Exempt { get; set; } = new List<string>();

        /// <summary>The action for one test.</summary>
        public ProtocolTestAction ActionFor(ProtocolTests test)
        {
            switch (test)
            {
                case ProtocolTests.Pregreet: return PregreetAction;
                case ProtocolTests.Pipelining: return PipeliningAction;
                case ProtocolTests.NonSmtp: return NonSmtpAction;
                case ProtocolTests.BareNewline: return BareNewlineAction;
                default: throw new ArgumentOutOfRangeException(nameof(test), test, "one test");
            }
        }

        /// <summary>The tests whose action is Enforce.</summary>
        public ProtocolTests Enforced => With(ProtocolTestAction.Enforce);

        /// <summary>The tests whose action is <paramref name="action"/>.</summary>
        public ProtocolTests With(ProtocolTestAction action)
        {
            var t = ProtocolTests.None;
            if (PregreetAction == action) t |= ProtocolTests.Pregreet;
            if (PipeliningAction == action) t |= ProtocolTests.Pipelining;
            if (NonSmtpAction == action) t |= ProtocolTests.NonSmtp;
            if (BareNewlineAction == action) t |= ProtocolTests.BareNewline;
            return t;
        }

        internal IReadOnlyList<NetworkRange> ParseExempt() => NetworkRange.ParseList(Exempt, nameof(Exempt));

        internal void Validate()
        {
            foreach (var a in new[] { PregreetAction, PipeliningAction, NonSmtpAction, BareNewlineAction })
                if (!Enum.IsDefined(typeof(ProtocolTestAction), a))
                    throw new ArgumentOutOfRangeException(nameof(PregreetAction), a, "must be Ignore, Log or Enforce");
            if (GreetWait < TimeSpan.Zero || GreetWait > TimeSpan.FromSeconds(60))
                throw new ArgumentOutOfRangeException(nameof(GreetWait), GreetWait, "must be 0 to 60 seconds");
            if (PassTtl <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PassTtl), PassTtl, "must be positive");
            ParseExempt();
        }
    }
}
