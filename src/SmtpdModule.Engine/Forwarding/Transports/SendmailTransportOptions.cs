using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>Which program <see cref="SendmailTransport"/> runs and how. Read once, when the
    /// transport is made.</summary>
    public sealed class SendmailTransportOptions
    {
        /// <summary>The sendmail-compatible program (reference §5.2: the delivery agent).</summary>
        public string ProgramPath { get; set; } = "/usr/sbin/sendmail";

        /// <summary>Arguments placed before <c>-oi -f sender -- recipients</c>, e.g.
        /// <c>-C /etc/postfix-out</c> for another Postfix configuration.</summary>
        public IList<string> ExtraArguments { get; } = new List<string>();

        /// <summary>The most recipients per run; more make several runs (RFC 5321 §4.5.3.1.8 asks
        /// a server to take 100 per transaction; smtpfwdd stopped at 95).</summary>
        public int MaxRecipientsPerRun { get; set; } = 100;

        /// <summary>A run still going after this long is killed and the batch deferred.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(10);
    }
}
