using System;
using System.Diagnostics;
using System.IO;
using MailKit;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Bounds what one SMTP server may send in answer to one command: at most
    /// <see cref="MaxReplyBytes"/> bytes, within the command timeout, counted from our last write
    /// (or from the connection, for the greeting).
    /// </summary>
    /// <remarks>
    /// <para>MailKit's own timeout is per read: a server that never stops sending (a multi-line
    /// reply whose last line never comes, a reply line without end, a trickle of one byte a
    /// minute) is never timed out, and MailKit keeps the whole reply in memory until its end. A
    /// reply to the final dot that never ended held the delivery, its connection slot and a
    /// growing buffer for ever; a greeting that never ended was read at loopback speed (300 MB in
    /// 3 s) until the connect timeout.</para>
    /// <para>RFC 5321 §4.5.3.1.5 limits a reply line to 512 octets; a reply to a pipelined group
    /// of commands (RFC 2920) is one line per command. 64 KiB is far beyond any real reply and
    /// small enough to hold. Exceeding it, or the deadline, throws an <see cref="IOException"/>
    /// from inside MailKit's read: the connection counts as broken (4.4.2, the message is
    /// deferred) and is closed, never pooled. Postfix's counterparts are line_length_limit for
    /// reply lines and smtp_per_request_deadline.</para>
    /// <para>It hooks MailKit's protocol logger, which sees every chunk read from and written to
    /// the server before it is parsed; nothing is logged. The messages say what happened, not
    /// where: <see cref="SmtpFailure"/> puts them after "connection to host:port broken:".</para>
    /// </remarks>
    internal sealed class ReplyGuard : IProtocolLogger
    {
        /// <summary>The most bytes the server may send between two of our writes.</summary>
        public const int MaxReplyBytes = 64 * 1024;

        readonly long _deadline;
        long _received;
        long _since = Stopwatch.GetTimestamp();

        /// <param name="timeout">How long a whole reply may take (the command timeout).</param>
        public ReplyGuard(TimeSpan timeout)
        {
            _deadline = (long)Math.Min(long.MaxValue / 2.0, timeout.TotalSeconds * Stopwatch.Frequency);
        }

        public IAuthenticationSecretDetector AuthenticationSecretDetector { get; set; }

        public void LogConnect(Uri uri) => Restart();

        public void LogClient(byte[] buffer, int offset, int count) => Restart();

        /// <exception cref="IOException">The reply is longer than <see cref="MaxReplyBytes"/> or
        /// has taken longer than the command timeout.</exception>
        public void LogServer(byte[] buffer, int offset, int count)
        {
            _received += count;
            if (_received > MaxReplyBytes)
                throw new IOException("the server sent more than " + MaxReplyBytes + " bytes without waiting for a command");
            if (Stopwatch.GetTimestamp() - _since > _deadline)
                throw new IOException("the server was still sending its reply when the command timeout ran out");
        }

        void Restart()
        {
            _received = 0;
            _since = Stopwatch.GetTimestamp();
        }

        public void Dispose() { }
    }
}
