using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Protocol;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spf;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// The rate limit stages of the decision path: connections at connect, recipients at RCPT.
    /// Counts go through the session's facts, so a decision record keeps the count it saw and a
    /// replay decides the same. A count that cannot be made (the store unreachable) limits nothing.
    /// </summary>
    internal sealed class RateLimiter
    {
        static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
        // A window's counter outlives its minute a little, so a late increment never starts a fresh count.
        static readonly TimeSpan CounterLifetime = TimeSpan.FromMinutes(2);

        readonly RateLimitOptions _o;
        readonly IReadOnlyList<NetworkRange> _exempt;

        public RateLimiter(RateLimitOptions options)
        {
            _o = options.Clone();
            _exempt = _o.ParseExempt();
        }

        /// <summary>The network <paramref name="client"/> is counted under; null when it is exempt.</summary>
        public string NetworkOf(PeerAddress client) =>
            NetworkRange.AnyContains(_exempt, client) ? null : GreylistKeys.Network(client, _o.IPv4PrefixLength, _o.IPv6PrefixLength);

        /// <summary>The minute's number as its counters' keys write it; the last one is kept (every
        /// recipient of a minute asks for it).</summary>
        string Minute(DateTimeOffset now)
        {
            var minute = now.ToUnixTimeSeconds() / 60;
            var last = _minute;
            if (last != null && last.Minute == minute) return last.Text;
            var text = minute.ToString(CultureInfo.InvariantCulture);
            _minute = new MinuteText(minute, text);
            return text;
        }

        sealed class MinuteText
        {
            public MinuteText(long minute, string text) { Minute = minute; Text = text; }
            public readonly long Minute;
            public readonly string Text;
        }

        volatile MinuteText _minute;

        /// <summary>The connection's count; a refusal (421, the session closes) when the network is over its limit.</summary>
        public async Task<Verdict> ConnectAsync(PolicySession session, CancellationToken cancellationToken)
        {
            var network = _o.ConnectionsPerMinute == 0 ? null : NetworkOf(session.Client);
            if (network == null) return null;
            var count = await CountAsync(session, "rate:c:" + network + ":" + Minute(session.Clock.UtcNow), cancellationToken).ConfigureAwait(false);
            if (count <= _o.ConnectionsPerMinute) return null;
            return Verdict.Of(PolicyStage.Connect, VerdictKind.Close,
                              new SmtpReply(421, "4.7.0", "Too many connections from " + network + ", try again later"),
                              "rate limit: connection " + count + " this minute from " + network + ", limit " + _o.ConnectionsPerMinute);
        }

        /// <summary>The recipient's counts; a temporary refusal (450) when the network, or the SPF-proven sender, is over its limit.</summary>
        public async Task<Verdict> RcptAsync(PolicySession session, CancellationToken cancellationToken)
        {
            var network = NetworkOf(session.Client);
            if (network == null) return null;
            var minute = Minute(session.Clock.UtcNow);
            if (_o.RecipientsPerMinute > 0)
            {
                var count = await CountAsync(session, "rate:r:" + network + ":" + minute, cancellationToken).ConfigureAwait(false);
                if (count > _o.RecipientsPerMinute)
                    return Limited("Too many recipients from " + network + ", slow down",
                                   "rate limit: recipient " + count + " this minute from " + network + ", limit " + _o.RecipientsPerMinute);
            }
            // Only a result at hand counts: the rules may decide without SPF, and a limit must not make
            // every recipient wait for it. The check began at MAIL and has usually ended by now.
            var spf = session.Spf;
            if (_o.SenderRecipientsPerMinute > 0 && spf != null && spf.Status == TaskStatus.RanToCompletion && session.Sender != null && !session.Sender.IsNull)
            {
                if (spf.Result.Result == SpfResult.Pass)
                {
                    var sender = session.Sender.Mailbox.ToLowerInvariant();
                    var count = await CountAsync(session, "rate:s:" + GreylistKeys.Digest(sender) + ":" + minute, cancellationToken).ConfigureAwait(false);
                    if (count > _o.SenderRecipientsPerMinute)
                        return Limited("Too many recipients from <" + sender + ">, slow down",
                                       "rate limit: recipient " + count + " this minute for " + sender + " (SPF pass), limit " + _o.SenderRecipientsPerMinute);
                }
            }
            return null;
        }

        static Verdict Limited(string text, string reason)
        {
            var v = Verdict.Of(PolicyStage.Rcpt, VerdictKind.TempFail, new SmtpReply(450, "4.7.1", text), reason);
            v.CountsAsRefusal = true;
            return v;
        }

        static readonly Task<long> NotCounted = Task.FromResult(0L);

        /// <summary>The count after this increment; 0 when it cannot be made. A count at hand is its own task.</summary>
        static Task<long> CountAsync(PolicySession session, string key, CancellationToken cancellationToken)
        {
            Task<long> counting;
            try { counting = session.Facts.CountAsync(key, 1, CounterLifetime, cancellationToken); }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                session.Results["rate"] = "not counted: " + ex.Message;
                return NotCounted;
            }
            return counting.Status == TaskStatus.RanToCompletion ? counting : CountedAsync(session, counting, cancellationToken);
        }

        static async Task<long> CountedAsync(PolicySession session, Task<long> counting, CancellationToken cancellationToken)
        {
            try { return await counting.ConfigureAwait(false); }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                session.Results["rate"] = "not counted: " + ex.Message;
                return 0;
            }
        }
    }
}
