using System;
using System.Threading;
using System.Threading.Tasks;
using MailKit.Net.Smtp;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Learns <see cref="DownstreamLimits"/> from the downstream: connect, EHLO (and STARTTLS as
    /// configured, then EHLO again, whose reply counts: RFC 3207 §4.2), QUIT. Uses the
    /// connection settings of <see cref="CallaheadOptions"/> (host to <see cref="CallaheadOptions.Timeout"/>);
    /// the callahead's limits and TTLs do not apply to it.
    /// </summary>
    public sealed class DownstreamLimitsProbe
    {
        readonly CallaheadOptions _options;

        /// <param name="options">Copied; later changes do not affect the probe.</param>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are not valid (see <see cref="CallaheadOptions"/>).</exception>
        public DownstreamLimitsProbe(CallaheadOptions options)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            _options = options.Snapshot();
        }

        /// <summary>The probe of the forwarder's smart host as an administrator names it (host, and
        /// port; 0 means 25). The limits are read from the EHLO reply before any STARTTLS: SIZE and
        /// SMTPUTF8 are offered in the clear (RFC 1870, RFC 6531), and a self-signed certificate,
        /// common on an internal server, would otherwise leave them unknown. On port 465 TLS is
        /// there from the first byte (RFC 8314); the certificate is not checked, since nothing
        /// is sent but EHLO and QUIT, and the worst a false answer does is refuse mail at the door.</summary>
        /// <param name="host">The smart host's name or address.</param>
        /// <param name="port">Its port; 0 for 25.</param>
        /// <param name="heloName">The EHLO name (the proxy's host name); null lets MailKit choose.</param>
        /// <exception cref="ArgumentException">No host, or a port outside 0–65535.</exception>
        public static DownstreamLimitsProbe ForSmartHost(string host, int port, string heloName)
        {
            var options = new CallaheadOptions { Host = host, Port = port, HeloName = heloName };
            if (port == 465)
            {
                options.TlsMode = CallaheadTlsMode.Implicit;
                options.ServerCertificateValidationCallback = (sender, certificate, chain, errors) => true;
                options.CheckCertificateRevocation = false;
            }
            return new DownstreamLimitsProbe(options);
        }

        /// <summary>"host:port" of the downstream.</summary>
        public string Target => _options.Target;

        /// <summary>Asks the downstream now. Never throws for a downstream that cannot be asked:
        /// that is <see cref="DownstreamLimits.IsKnown"/> false with the error in the detail.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
        public async Task<DownstreamLimits> ProbeAsync(CancellationToken cancellationToken = default)
        {
            using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            using (var client = CallaheadClient.Create(_options))
            {
                deadline.CancelAfter(_options.Timeout);
                try
                {
                    using (deadline.Token.Register(client.Dispose))
                    {
                        await client.OpenAsync(_options, deadline.Token).ConfigureAwait(false);
                        var capabilities = client.Capabilities;
                        var limits = new DownstreamLimits(
                            (capabilities & SmtpCapabilities.Size) != 0 ? client.MaxSize : 0,
                            (capabilities & SmtpCapabilities.UTF8) != 0,
                            (capabilities & SmtpCapabilities.EightBitMime) != 0,
                            DateTimeOffset.UtcNow,
                            _options.Target);
                        await client.QuitQuietlyAsync().ConfigureAwait(false);
                        return limits;
                    }
                }
                catch (Exception) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    return DownstreamLimits.Unavailable("no EHLO reply from " + _options.Target + " within " + _options.Timeout.TotalSeconds + " s");
                }
                catch (Exception) when (cancellationToken.IsCancellationRequested)
                {
                    throw new OperationCanceledException(cancellationToken);
                }
                catch (Exception ex)
                {
                    var text = (ex.Message ?? ex.GetType().Name).Replace("\r", " ").Replace("\n", " ");
                    if (text.Length > 200) text = text.Substring(0, 200) + "…";
                    return DownstreamLimits.Unavailable("EHLO to " + _options.Target + " failed: " + text);
                }
            }
        }
    }
}
