using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// MailKit's client opened to the downstream as <see cref="CallaheadOptions"/> says, with the
    /// single commands a probe sends (MailKit itself only sends whole messages, which a probe must
    /// never do). Used by <see cref="CallaheadSource"/> and <see cref="DownstreamLimitsProbe"/>.
    /// </summary>
    /// <remarks>The server's replies are bounded to <see cref="MaxReplyBytes"/> between two of our
    /// writes, so a server that never ends a reply cannot fill memory before the probe's deadline
    /// (MailKit keeps a whole reply); the deadline itself is the caller's cancellation.</remarks>
    internal sealed class CallaheadClient : SmtpClient
    {
        public const int MaxReplyBytes = 64 * 1024;

        CallaheadClient() : base(new ReplyLimit())
        {
        }

        /// <summary>A client set up as the options say, not yet connected.</summary>
        public static CallaheadClient Create(CallaheadOptions options)
        {
            var client = new CallaheadClient
            {
                // Only a backstop: the probe's deadline (CallaheadSource) ends it first and names the
                // step that got no answer; a per-read timeout equal to it raced it and, winning,
                // turned "no answer" into a failure of the step.
                Timeout = (int)Math.Min(int.MaxValue, options.Timeout.TotalMilliseconds + 1000),
                ServerCertificateValidationCallback = options.ServerCertificateValidationCallback,
                CheckCertificateRevocation = options.CheckCertificateRevocation,
            };
            if (!string.IsNullOrEmpty(options.HeloName)) client.LocalDomain = options.HeloName;
            return client;
        }

        /// <summary>Connects, reads the greeting, sends EHLO and STARTTLS as the options ask.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
        /// <exception cref="Exception">Whatever MailKit throws for a refused connection, a greeting
        /// other than 220, a failed TLS handshake.</exception>
        public Task OpenAsync(CallaheadOptions options, CancellationToken cancellationToken) =>
            ConnectAsync(options.Host, options.EffectivePort, SocketOptions(options.TlsMode), cancellationToken);

        /// <summary>Sends one command line (no CRLF) and returns the reply, whatever its code.</summary>
        public Task<SmtpResponse> CommandAsync(string command, CancellationToken cancellationToken) =>
            SendCommandAsync(command, cancellationToken);

        /// <summary>QUIT within a short while, ignoring every failure: the answer is already in hand.</summary>
        public async Task QuitQuietlyAsync()
        {
            try
            {
                using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
                {
                    Timeout = 2000;
                    await DisconnectAsync(true, limit.Token).ConfigureAwait(false);
                }
            }
            catch (Exception) { /* closing anyway */ }
        }

        static SecureSocketOptions SocketOptions(CallaheadTlsMode mode)
        {
            switch (mode)
            {
                case CallaheadTlsMode.StartTls: return SecureSocketOptions.StartTls;
                case CallaheadTlsMode.StartTlsWhenAvailable: return SecureSocketOptions.StartTlsWhenAvailable;
                case CallaheadTlsMode.Implicit: return SecureSocketOptions.SslOnConnect;
                default: return SecureSocketOptions.None;
            }
        }

        /// <summary>Counts what the server sends between two of our writes; nothing is logged.</summary>
        sealed class ReplyLimit : IProtocolLogger
        {
            long _received;

            public IAuthenticationSecretDetector AuthenticationSecretDetector { get; set; }

            public void LogConnect(Uri uri) => _received = 0;

            public void LogClient(byte[] buffer, int offset, int count) => _received = 0;

            public void LogServer(byte[] buffer, int offset, int count)
            {
                _received += count;
                if (_received > MaxReplyBytes)
                    throw new IOException("the server sent more than " + MaxReplyBytes + " bytes without waiting for a command");
            }

            public void Dispose() { }
        }
    }
}
