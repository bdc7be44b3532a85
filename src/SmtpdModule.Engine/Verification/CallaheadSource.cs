using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Asks the real mail server whether it has a mailbox, as Postfix's address verification
    /// does: connect, EHLO, <c>MAIL FROM:&lt;&gt;</c>, <c>RCPT TO:&lt;address&gt;</c>, QUIT. DATA
    /// is never sent, so a probe can never deliver anything.
    /// </summary>
    /// <remarks>
    /// <para>What the reply means is <see cref="CallaheadReply"/>'s rule: 250/251 Known, a 5.1.x
    /// (or, from a server without enhanced codes, a bare 550) Unknown, everything else
    /// Unavailable with the reply in <see cref="RecipientAnswer.Detail"/>. A refused MAIL FROM is
    /// Unavailable: the probe's sender was refused, which says nothing about the user. So are a
    /// refused connection, a failed TLS handshake and a probe past <see cref="CallaheadOptions.Timeout"/>.</para>
    /// <para>Bounded per downstream (one source per downstream; share the instance): at most
    /// <see cref="CallaheadOptions.MaxConcurrentProbes"/> open at once and
    /// <see cref="CallaheadOptions.ProbesPerSecond"/> new connections a second; a probe that
    /// cannot get its turn within <see cref="CallaheadOptions.MaxWait"/> is Unavailable
    /// ("probe limit"), so a flood of RCPTs turns into temporary failures, not a queue.</para>
    /// <para>One connection per probe, closed with QUIT: simpler than a pool, and a probe's cost
    /// is dominated by the server's RCPT checks, not the handshake; the caller caches answers
    /// (<see cref="CallaheadOptions.PositiveTtl"/>, <see cref="CallaheadOptions.NegativeTtl"/>),
    /// so a downstream sees one probe per address per TTL. Nothing is cached here.</para>
    /// <para>Exchange answers 250 to every RCPT unless its recipient filtering is on (and then
    /// delays each 5xx: tarpitting), so a callahead to Exchange needs recipient filtering on and
    /// a <see cref="CallaheadOptions.Timeout"/> above its tarpit delay.</para>
    /// <para>An address with non-ASCII characters (local part or an unconverted domain) is sent
    /// with SMTPUTF8 (RFC 6531) when the downstream offers it; otherwise it is Unavailable (the
    /// downstream could not take the mail, but that is not "no such user").</para>
    /// </remarks>
    public sealed class CallaheadSource : IRecipientSource
    {
        readonly CallaheadOptions _options;
        readonly SemaphoreSlim _slots;
        readonly CallaheadRateLimiter _rate;

        /// <param name="options">Copied; later changes do not affect the source.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are not valid (see <see cref="CallaheadOptions"/>).</exception>
        public CallaheadSource(CallaheadOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            _options = options.Snapshot();
            _slots = new SemaphoreSlim(_options.MaxConcurrentProbes, _options.MaxConcurrentProbes);
            _rate = new CallaheadRateLimiter(_options.ProbesPerSecond);
        }

        /// <inheritdoc/>
        public string Name => "callahead";

        /// <summary>The settings in use (a copy): the pipeline reads the TTLs from here.</summary>
        public CallaheadOptions Options => _options;

        /// <summary>Probes open now (for status and tests).</summary>
        public int ProbesInFlight => _options.MaxConcurrentProbes - _slots.CurrentCount;

        /// <inheritdoc/>
        /// <exception cref="ArgumentNullException"><paramref name="mailbox"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="mailbox"/> is empty or holds a
        /// control character (it would break the command line).</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired;
        /// the probe's connection is closed.</exception>
        public async Task<RecipientAnswer> CheckAsync(string mailbox, CancellationToken cancellationToken = default)
        {
            if (mailbox == null) throw new ArgumentNullException(nameof(mailbox));
            if (mailbox.Length == 0) throw new ArgumentException("The mailbox is empty.", nameof(mailbox));
            foreach (var c in mailbox)
                if (c < ' ' || c == 0x7F)
                    throw new ArgumentException("The mailbox holds a control character.", nameof(mailbox));

            var started = Stopwatch.GetTimestamp();
            if (!await _slots.WaitAsync(_options.MaxWait, cancellationToken).ConfigureAwait(false))
                return Unavailable("probe limit: " + _options.MaxConcurrentProbes + " probes to " + _options.Target
                                   + " already open for " + _options.MaxWait.TotalSeconds + " s");
            try
            {
                var left = _options.MaxWait - Elapsed(started);
                if (left < TimeSpan.Zero || !await _rate.WaitAsync(left, cancellationToken).ConfigureAwait(false))
                    return Unavailable("probe limit: more than " + _options.ProbesPerSecond + " new probes a second to " + _options.Target);
                return await ProbeAsync(mailbox, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
            }
        }

        async Task<RecipientAnswer> ProbeAsync(string mailbox, CancellationToken cancellationToken)
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                deadline.CancelAfter(_options.Timeout);
                var client = CallaheadClient.Create(_options);
                var step = "connect";
                try
                {
                    // MailKit's cancellation is checked between reads and its timeout is per read;
                    // closing the client ends a read in progress, so the deadline is the deadline.
                    using (deadline.Token.Register(client.Dispose))
                    {
                        await client.OpenAsync(_options, deadline.Token).ConfigureAwait(false);
                        var utf8 = !IsAscii(mailbox) || !IsAscii(_options.ProbeSender);
                        if (utf8 && (client.Capabilities & SmtpCapabilities.UTF8) == 0)
                        {
                            await client.QuitQuietlyAsync().ConfigureAwait(false);
                            return Unavailable(_options.Target + " does not offer SMTPUTF8, which <" + mailbox + "> needs");
                        }

                        step = "MAIL FROM";
                        var mail = await client.CommandAsync("MAIL FROM:<" + _options.ProbeSender + ">" + (utf8 ? " SMTPUTF8" : ""), deadline.Token).ConfigureAwait(false);
                        var mailCode = (int)mail.StatusCode;
                        if (mailCode / 100 != 2)
                        {
                            await client.QuitQuietlyAsync().ConfigureAwait(false);
                            return Unavailable("MAIL FROM:<" + _options.ProbeSender + "> refused by " + _options.Target + ": " + CallaheadReply.Describe(mailCode, mail.Response));
                        }

                        step = "RCPT TO";
                        var rcpt = await client.CommandAsync("RCPT TO:<" + mailbox + ">", deadline.Token).ConfigureAwait(false);
                        var code = (int)rcpt.StatusCode;
                        var enhanced = (client.Capabilities & SmtpCapabilities.EnhancedStatusCodes) != 0;
                        var status = CallaheadReply.Classify(code, rcpt.Response, enhanced);
                        // Never DATA: QUIT ends the transaction, and the answer stands whatever QUIT meets.
                        await client.QuitQuietlyAsync().ConfigureAwait(false);
                        return new RecipientAnswer(status, Name, _options.Target + " " + CallaheadReply.Describe(code, rcpt.Response));
                    }
                }
                catch (Exception) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return Unavailable("no answer to " + step + " from " + _options.Target + " within " + _options.Timeout.TotalSeconds + " s");
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                catch (Exception ex)
                {
                    return Unavailable(step + " to " + _options.Target + " failed: " + Message(ex));
                }
                finally
                {
                    client.Dispose();
                }
            }
        }

        RecipientAnswer Unavailable(string detail) => new RecipientAnswer(MailboxStatus.Unavailable, Name, detail);

        static TimeSpan Elapsed(long started) =>
            TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - started) / (double)Stopwatch.Frequency);

        static bool IsAscii(string s)
        {
            foreach (var c in s)
                if (c > 0x7F) return false;
            return true;
        }

        static string Message(Exception ex)
        {
            if (ex is SmtpCommandException command)
                return CallaheadReply.Describe((int)command.StatusCode, command.Message);
            var text = (ex.Message ?? ex.GetType().Name).Replace("\r", " ").Replace("\n", " ");
            return text.Length > 200 ? text.Substring(0, 200) + "…" : text;
        }
    }
}
