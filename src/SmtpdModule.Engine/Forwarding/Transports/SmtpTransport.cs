using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Delivers to one SMTP server (a smart host or the real MTA) with MailKit: one transaction
    /// per message with all its recipients, over a small pool of reused connections.
    /// </summary>
    /// <remarks>
    /// <para>Implements RFC 5321 as a client, with STARTTLS (RFC 3207) or implicit TLS (RFC 8314),
    /// AUTH (RFC 4954), PIPELINING (RFC 2920), SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8
    /// (RFC 6531) and enhanced status codes (RFC 2034, RFC 3463). Replies map onto outcomes as the
    /// reference's §9 asks for the SMTP replacement of smtpfwdd's exit codes: 2xx after the data
    /// delivered, 4xx deferred, 5xx failed, per recipient where the server answers per recipient.</para>
    /// <para>The message goes out as the spooled bytes (<see cref="RawSpoolMessage"/>); only the
    /// wire's dot-stuffing is added. A failure of the connection, TLS or AUTH defers every
    /// recipient still open and closes the connection for good.</para>
    /// <para>The server's replies are bounded (<see cref="ReplyGuard"/>): a reply longer than
    /// 64 KiB, or one still arriving after the command timeout, counts as a broken connection.</para>
    /// <para>Trusts the configured server; the certificate is checked by the system or by
    /// <see cref="SmtpTransportOptions.ServerCertificateValidationCallback"/>.</para>
    /// </remarks>
    public sealed class SmtpTransport : IMessageTransport
    {
        const string Local = "x-local";

        readonly SmtpTransportOptions _options;
        readonly SmtpConnectionPool _pool;
        int _disposed;

        /// <param name="options">Copied; later changes to it do not affect the transport.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">No host, a port outside 0–65535, fewer than one
        /// connection, or a timeout that is not positive.</exception>
        public SmtpTransport(SmtpTransportOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            if (string.IsNullOrWhiteSpace(options.Host)) throw new ArgumentException("Host is required.", nameof(options));
            if (options.Port < 0 || options.Port > 65535) throw new ArgumentException("Port must be between 0 and 65535.", nameof(options));
            if (options.MaxConnections < 1) throw new ArgumentException("MaxConnections must be at least 1.", nameof(options));
            if (options.ConnectTimeout <= TimeSpan.Zero || options.CommandTimeout <= TimeSpan.Zero)
                throw new ArgumentException("Timeouts must be positive.", nameof(options));
            _options = options.Snapshot();
            _pool = new SmtpConnectionPool(_options.MaxConnections);
        }

        /// <inheritdoc/>
        public string Target => "smtp:" + _options.Host + ":" + _options.Port;

        /// <summary>Connections open and waiting for the next message.</summary>
        internal int IdleConnections => _pool.IdleCount;

        /// <inheritdoc/>
        /// <exception cref="ObjectDisposedException">The transport has been disposed.</exception>
        public async Task<DeliveryResult> DeliverAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(SmtpTransport));
            if (message.Recipients.Count == 0) return new DeliveryResult(Array.Empty<RecipientResult>());

            await _pool.WaitSlotAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // A pooled connection the server closed while it sat idle fails before any reply;
                // that is no news about the message, so it is tried once more on a new connection.
                for (var attempt = 0; ; attempt++)
                {
                    var client = await TakeLiveIdleAsync(cancellationToken).ConfigureAwait(false);
                    var reused = client != null;
                    if (client == null)
                    {
                        var (connected, failure) = await ConnectAsync(cancellationToken).ConfigureAwait(false);
                        if (failure != null) return All(message, failure, failure.Answered ? _options.Host : null);
                        client = connected;
                    }

                    var sent = await SendAsync(client, message, cancellationToken).ConfigureAwait(false);
                    if (sent.Stale && reused && attempt == 0)
                    {
                        SmtpConnectionPool.Discard(client);
                        continue;
                    }
                    if (sent.Reusable) _pool.Return(client);
                    else SmtpConnectionPool.Discard(client);
                    return new DeliveryResult(sent.Results, _options.Host);
                }
            }
            finally
            {
                _pool.ReleaseSlot();
            }
        }

        /// <summary>An idle connection that is still connected and, after a quiet spell, still
        /// answers NOOP; null when there is none.</summary>
        async Task<RecordingSmtpClient> TakeLiveIdleAsync(CancellationToken cancellationToken)
        {
            RecordingSmtpClient client;
            while ((client = _pool.TakeIdle()) != null)
            {
                if (!client.IsConnected)
                {
                    SmtpConnectionPool.Discard(client);
                    continue;
                }
                var idle = TimeSpan.FromSeconds((Stopwatch.GetTimestamp() - client.IdleSince) / (double)Stopwatch.Frequency);
                if (idle <= _options.IdleCheckInterval) return client;
                using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    limit.CancelAfter(_options.ConnectTimeout);
                    try
                    {
                        await client.NoOpAsync(limit.Token).ConfigureAwait(false);
                        return client;
                    }
                    catch (Exception) when (!cancellationToken.IsCancellationRequested)
                    {
                        SmtpConnectionPool.Discard(client);
                    }
                    catch (OperationCanceledException)
                    {
                        SmtpConnectionPool.Discard(client);
                        throw;
                    }
                }
            }
            return null;
        }

        async Task<(RecordingSmtpClient Client, SmtpFailure Failure)> ConnectAsync(CancellationToken cancellationToken)
        {
            var client = new RecordingSmtpClient(new ReplyGuard(_options.CommandTimeout))
            {
                Timeout = (int)Math.Min(int.MaxValue, _options.CommandTimeout.TotalMilliseconds),
                ServerCertificateValidationCallback = _options.ServerCertificateValidationCallback,
                CheckCertificateRevocation = _options.CheckCertificateRevocation,
            };
            if (!string.IsNullOrEmpty(_options.LocalDomain)) client.LocalDomain = _options.LocalDomain;

            using (var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                limit.CancelAfter(_options.ConnectTimeout);
                try
                {
                    await client.ConnectAsync(_options.Host, _options.Port, SocketOptions(_options.TlsMode), limit.Token).ConfigureAwait(false);
                    if (_options.Credential != null)
                    {
                        if (!client.IsSecure && !_options.AllowPlainTextAuthentication)
                        {
                            await QuitQuietlyAsync(client).ConfigureAwait(false);
                            return (null, new SmtpFailure(DeliveryOutcome.Deferred, "4.7.0",
                                "not sending credentials over a connection without TLS (AllowPlainTextAuthentication is off)", Local, answered: true));
                        }
                        await client.AuthenticateAsync(_options.Credential, limit.Token).ConfigureAwait(false);
                    }
                    client.IdleSince = Stopwatch.GetTimestamp();
                    return (client, null);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    SmtpConnectionPool.Discard(client);
                    throw;
                }
                catch (Exception ex)
                {
                    var answered = client.IsConnected;
                    SmtpConnectionPool.Discard(client);
                    if (ex is OperationCanceledException)
                        return (null, new SmtpFailure(DeliveryOutcome.Deferred, "4.4.1",
                            "no answer from " + _options.Host + ":" + _options.Port + " within " + _options.ConnectTimeout.TotalSeconds + " s", Local, answered));
                    var failure = SmtpFailure.Classify(ex, _options.Host + ":" + _options.Port, connecting: true);
                    failure.Answered = answered || ex is SmtpCommandException || ex is AuthenticationException || ex is NotSupportedException;
                    return (null, failure);
                }
            }
        }

        async Task<Sent> SendAsync(RecordingSmtpClient client, OutgoingMessage message, CancellationToken cancellationToken)
        {
            var attempt = new SmtpAttempt(message);
            client.Attempt = attempt;

            MailboxAddress sender;
            try
            {
                sender = Mailbox(message.Sender);
            }
            catch (FormatException ex)
            {
                attempt.ResolveRest(DeliveryOutcome.Failed, "5.1.7", ex.Message, Local);
                return new Sent(attempt.Results(), reusable: true);
            }
            for (var i = 0; i < message.Recipients.Count; i++)
            {
                try
                {
                    attempt.AddRecipient(i, Mailbox(message.Recipients[i].Address));
                }
                catch (FormatException ex)
                {
                    attempt.Resolve(i, DeliveryOutcome.Failed, "5.1.3", ex.Message, Local);
                }
            }
            if (attempt.Mailboxes.Count == 0) return new Sent(attempt.Results(), reusable: true);

            var capabilities = client.Capabilities;
            var eightBitOffered = (capabilities & SmtpCapabilities.EightBitMime) != 0;
            // MailKit will not send SMTPUTF8 without 8BITMIME; neither would a sane server offer it so.
            var utf8Offered = eightBitOffered && (capabilities & SmtpCapabilities.UTF8) != 0;
            if (message.SmtpUtf8 && !utf8Offered)
            {
                // RFC 6531 §3.4: no downgrade; the message cannot be relayed to this server.
                attempt.ResolveRest(DeliveryOutcome.Failed, "5.6.7", "SMTPUTF8 is required but " + _options.Host + " does not offer it", Local);
                return new Sent(attempt.Results(), reusable: true);
            }

            MimeMessage mime;
            FormatOptions format;
            try
            {
                // Without 8BITMIME the 8-bit bytes go as they are, as Postfix does: converting them
                // would break signatures, and most servers take them.
                (mime, format) = RawSpoolMessage.Create(message, message.EightBit && eightBitOffered, message.SmtpUtf8);
            }
            catch (SpoolReadException ex)
            {
                attempt.ResolveRest(DeliveryOutcome.Deferred, "4.3.0", ex.Message, Local);
                return new Sent(attempt.Results(), reusable: true);
            }

            // The message holds its spool file open until it is sent, or refused before its data.
            using (mime)
            {
                client.MessageSize = message.Size;
                try
                {
                    var reply = await client.SendAsync(format, mime, sender, attempt.Mailboxes, cancellationToken).ConfigureAwait(false);
                    attempt.AcceptedReplied(250, reply);
                    attempt.ResolveRest(DeliveryOutcome.Deferred, "4.5.0", "the server did not answer for this recipient", Local);
                    return new Sent(attempt.Results(), reusable: client.IsConnected && !attempt.ServerClosing);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    SmtpConnectionPool.Discard(client);
                    throw;
                }
                catch (SmtpCommandException ex)
                {
                    var code = (int)ex.StatusCode;
                    if (ex.ErrorCode == SmtpErrorCode.SenderNotAccepted)
                        attempt.AllReplied(code, ex.Message);   // over any RCPT replies read after it (PIPELINING)
                    else if (ex.ErrorCode != SmtpErrorCode.MessageNotAccepted || attempt.AcceptedCount > 0)
                        attempt.AcceptedReplied(code, ex.Message);   // the reply to DATA or to the final dot
                    // else: MailKit's own "no recipients were accepted"; every RCPT reply is recorded.
                    attempt.ResolveRest(DeliveryOutcome.Deferred, SmtpReply.StatusOf(code, ex.Message), SmtpReply.Diagnostic(code, ex.Message), "smtp");
                    return new Sent(attempt.Results(), reusable: client.IsConnected && !attempt.ServerClosing && code != 421);
                }
                catch (Exception ex)
                {
                    var failure = SmtpFailure.Classify(ex, _options.Host + ":" + _options.Port, connecting: false);
                    attempt.ResolveRest(failure.Outcome, failure.Status, failure.Diagnostic, failure.Type);
                    var stale = !attempt.AnyReply && (ex is IOException || ex is SocketException || ex is SmtpProtocolException || ex is ServiceNotConnectedException);
                    return new Sent(attempt.Results(), reusable: false, stale: stale);
                }
            }
        }

        /// <summary>A MailKit mailbox for an envelope path, refusing any that MailKit would send
        /// differently from how it was received (it parses and may normalise addresses).</summary>
        /// <exception cref="FormatException">The address cannot be sent as it is.</exception>
        static MailboxAddress Mailbox(string address)
        {
            MailboxAddress mailbox;
            try
            {
                mailbox = new MailboxAddress("", address);
            }
            catch (Exception ex) when (ex is ParseException || ex is ArgumentException)
            {
                throw new FormatException("address <" + SmtpReply.OneLine(address) + "> cannot be sent: " + ex.Message);
            }
            if (mailbox.Address != address && mailbox.GetAddress(true) != address)
                throw new FormatException("address <" + SmtpReply.OneLine(address) + "> would be sent as <" + mailbox.GetAddress(true) + ">");
            return mailbox;
        }

        static SecureSocketOptions SocketOptions(SmtpTlsMode mode)
        {
            switch (mode)
            {
                case SmtpTlsMode.StartTls: return SecureSocketOptions.StartTls;
                case SmtpTlsMode.StartTlsWhenAvailable: return SecureSocketOptions.StartTlsWhenAvailable;
                case SmtpTlsMode.Implicit: return SecureSocketOptions.SslOnConnect;
                default: return SecureSocketOptions.None;
            }
        }

        static async Task QuitQuietlyAsync(RecordingSmtpClient client)
        {
            try
            {
                client.Timeout = 2000;
                await client.DisconnectAsync(true).ConfigureAwait(false);
            }
            catch (Exception) { /* closing anyway */ }
            SmtpConnectionPool.Discard(client);
        }

        static DeliveryResult All(OutgoingMessage message, SmtpFailure failure, string remoteMta)
        {
            var results = new RecipientResult[message.Recipients.Count];
            for (var i = 0; i < results.Length; i++)
                results[i] = new RecipientResult(message.Recipients[i], failure.Outcome, failure.Status, failure.Diagnostic, failure.Type);
            return new DeliveryResult(results, remoteMta);
        }

        /// <summary>Closes the idle connections (with QUIT). Deliveries in progress finish; their
        /// connections are closed instead of pooled.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            _pool.Dispose();
        }

        readonly struct Sent
        {
            public Sent(RecipientResult[] results, bool reusable, bool stale = false)
            {
                Results = results;
                Reusable = reusable;
                Stale = stale;
            }

            public RecipientResult[] Results { get; }
            public bool Reusable { get; }
            public bool Stale { get; }
        }
    }
}
