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
