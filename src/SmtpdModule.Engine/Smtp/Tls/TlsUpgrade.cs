using System;
using System.ComponentModel;
using System.IO;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Smtp.Tls
{
    /// <summary>
    /// The server side of STARTTLS (RFC 3207): after the session has sent <c>220 Ready to start
    /// TLS</c>, runs the TLS handshake on the connection's stream and hands back the encrypted stream.
    /// </summary>
    /// <remarks>
    /// What it trusts: the certificate in <see cref="TlsOptions"/>, loaded and checked by
    /// <see cref="ServerCertificate"/>. It trusts nothing the client sends: the handshake has a
    /// deadline, and every way it can fail becomes one <see cref="TlsHandshakeException"/>.
    /// <para>No client certificate is asked for (RFC 3207 §4.1 leaves it to the server; relaying is
    /// decided by the rules, not by certificates), so there is no revocation to check either.</para>
    /// <para>What the session keeps doing: it must throw away any bytes it buffered after the
    /// STARTTLS line before calling this (they arrived in plain text; replaying them inside TLS is
    /// the command-injection hole of CVE-2011-0411), and after success it forgets the EHLO and
    /// everything else learned before TLS (RFC 3207 §4.2).</para>
    /// </remarks>
    public static class TlsUpgrade
    {
        /// <summary>Runs the server side of a TLS handshake on <paramref name="inner"/>.</summary>
        /// <param name="inner">The connection's stream. It must close its transport when disposed (a
        /// <see cref="NetworkStream"/> that owns its socket) so that a timeout or a failure ends the
        /// connection. It belongs to the returned stream from now on: disposing that stream closes it,
        /// and on any failure or cancellation it is already closed.</param>
        /// <param name="options">The certificate, protocols and handshake timeout.</param>
        /// <param name="cancellationToken">Stops the handshake (the proxy is stopping); the connection is closed.</param>
        /// <returns>The authenticated stream; the session reads and writes through it and disposes it.</returns>
        /// <exception cref="ArgumentNullException"><paramref name="inner"/> or <paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException"><see cref="TlsOptions.Certificate"/> is null or has no private key.</exception>
        /// <exception cref="TlsHandshakeException">The handshake did not complete: it timed out
        /// (<see cref="TlsHandshakeFailure.Timeout"/>), the connection broke
        /// (<see cref="TlsHandshakeFailure.ConnectionLost"/>) or the client did not speak acceptable TLS
        /// (<see cref="TlsHandshakeFailure.Protocol"/>).</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static async Task<SslStream> AuthenticateAsServerAsync(Stream inner, TlsOptions options, CancellationToken cancellationToken = default)
        {
            if (inner == null)
                throw new ArgumentNullException(nameof(inner));
            if (options == null)
                throw new ArgumentNullException(nameof(options));
            var certificate = options.Certificate
                ?? throw new ArgumentException("TlsOptions.Certificate is not set.", nameof(options));
            if (!certificate.HasPrivateKey)
                throw new ArgumentException("The TLS certificate " + certificate.Subject + " has no private key.", nameof(options));
            var timeout = options.HandshakeTimeout;

            if (cancellationToken.IsCancellationRequested)
            {
                Close(null, inner);
                throw new OperationCanceledException(cancellationToken);
            }

            var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
            var handshake = Start(ssl, certificate, Effective(options.Protocols));

            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var expiry = Task.Delay(timeout, deadline.Token);
                if (await Task.WhenAny(handshake, expiry).ConfigureAwait(false) != handshake)
                {
                    // The netstandard2.0 overload takes no token, so the only way to stop a handshake
                    // is to close the transport under it. The handshake task then fails on its own
                    // time (or never, with a stream that ignores Dispose); it is not awaited, only observed.
                    Close(ssl, inner);
                    Observe(handshake);
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new TlsHandshakeException(TlsHandshakeFailure.Timeout,
                        "The client did not complete the TLS handshake within " + Seconds(timeout) + "; the connection was closed.");
                }
                deadline.Cancel();    // frees the delay's timer now rather than at expiry
            }

            try
            {
                await handshake.ConfigureAwait(false);
                return ssl;
            }
            catch (Exception ex) when (IsHandshakeFailure(ex))
            {
                Close(ssl, inner);
                throw Describe(ex);
            }
            catch
            {
                Close(ssl, inner);
                throw;
            }
        }

        static Task Start(SslStream ssl, X509Certificate certificate, SslProtocols protocols)
        {
            try
            {
                return ssl.AuthenticateAsServerAsync(certificate, clientCertificateRequired: false, enabledSslProtocols: protocols,
                    checkCertificateRevocation: false);
            }
            catch (Exception ex)
            {
                // .NET Framework starts the handshake through Begin/End and can throw before the
                // first await; one path for both.
                return Task.FromException(ex);
            }
        }

        /// <summary>The protocols to hand SslStream: <paramref name="requested"/>, except where this
        /// runtime refuses None.</summary>
        static SslProtocols Effective(SslProtocols requested) =>
            requested == SslProtocols.None && LegacyFrameworkTls.Value ? SslProtocols.Tls12 : requested;

        // .NET Framework refuses SslProtocols.None with an ArgumentException when its internal
        // ServicePointManager.DisableSystemDefaultTlsVersions is set: the host process targets a
        // framework before 4.7 (some Windows PowerShell hosts do) and neither the AppContext switch
        // Switch.System.Net.DontEnableSystemDefaultTlsVersions=false nor the SystemDefaultTlsVersions
        // registry value says otherwise. There "let the OS choose" becomes TLS 1.2, the newest
        // version every supported Windows has. .NET (Core) has no such property: false.
        static readonly Lazy<bool> LegacyFrameworkTls = new Lazy<bool>(() =>
        {
            try
            {
                var property = typeof(ServicePointManager).GetProperty("DisableSystemDefaultTlsVersions",
                    BindingFlags.NonPublic | BindingFlags.Static);
                return property != null && property.GetValue(null) is bool disabled && disabled;
            }
            catch (Exception)
            {
                return false;    // cannot tell; None is then tried as asked
            }
        });

        static bool IsHandshakeFailure(Exception ex) =>
            ex is IOException || ex is AuthenticationException || ex is ObjectDisposedException ||
            ex is SocketException || ex is Win32Exception || ex is CryptographicException;

        static TlsHandshakeException Describe(Exception ex)
        {
            for (var e = ex; e != null; e = e.InnerException)
                if (e is SocketException || e is ObjectDisposedException)
                    return new TlsHandshakeException(TlsHandshakeFailure.ConnectionLost,
                        "The connection was lost during the TLS handshake: " + Messages(ex), ex);
            return new TlsHandshakeException(TlsHandshakeFailure.Protocol, "The TLS handshake failed: " + Messages(ex), ex);
        }

        /// <summary>The outer message and, when there is one, the innermost: "Authentication failed,
        /// see inner exception." alone tells the log nothing.</summary>
        static string Messages(Exception ex)
        {
            var innermost = ex;
            while (innermost.InnerException != null)
                innermost = innermost.InnerException;
            return innermost == ex || ex.Message.IndexOf(innermost.Message, StringComparison.Ordinal) >= 0
                ? ex.Message
                : ex.Message + " (" + innermost.Message + ")";
        }

        static void Close(SslStream ssl, Stream inner)
        {
            // The inner stream first: its socket closing is what ends a pending read.
            try { inner.Dispose(); } catch (Exception) { /* already broken; closing is all that is left */ }
            try { ssl?.Dispose(); } catch (Exception) { /* as above */ }
        }

        static void Observe(Task task) =>
            task.ContinueWith(t => _ = t.Exception, CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        static string Seconds(TimeSpan span) =>
            span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
    }
}
