using System;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Writes what a <c>grey</c> line's verdict leaves behind: a first try (kept for the retry window),
    /// a proven retry (the triplet kept for the pass lifetime, and the client's count of proven
    /// retries raised, which auto-allows it), a trap on a client address that wrote to a greytrap.
    /// Only the proxy writes: Test-SmtpdRule and a replay decide from what is there and change nothing.
    /// </summary>
    /// <remarks>A write that fails (the store unreachable) is reported and the verdict stands: the
    /// sender is asked to retry once more, or is let through, and no mail is lost either way.</remarks>
    public sealed class GreylistRecorder
    {
        readonly IStateStore _store;
        readonly GreylistOptions _options;
        readonly Action<string> _failed;

        /// <param name="store">Where greylisting's state lives.</param>
        /// <param name="options">The lifetimes to write with.</param>
        /// <param name="failed">Told why a write failed; null: failures are ignored.</param>
        public GreylistRecorder(IStateStore store, GreylistOptions options, Action<string> failed = null)
        {
            _store = store ?? throw new ArgumentNullException(nameof(store));
            _options = options ?? throw new ArgumentNullException(nameof(options));
            _failed = failed;
        }

        /// <summary>Records <paramref name="check"/>; <paramref name="accepted"/>: the recipient was accepted in the end.</summary>
        public async Task RecordAsync(GreylistCheck check, bool accepted, CancellationToken cancellationToken = default)
        {
            try
            {
                switch (check.State)
                {
                    case GreylistState.FirstSeen:
                        // Of several sessions racing on one triplet, the first try's time stands.
                        await _store.SetIfAbsentAsync(check.TripletKey, check.TripletValue(check.Time, null), _options.RetryWindow, cancellationToken).ConfigureAwait(false);
                        break;
                    case GreylistState.Passed when accepted:
                        await _store.SetAsync(check.TripletKey, check.TripletValue(check.FirstSeen ?? check.Time, check.Time), _options.PassLifetime, cancellationToken).ConfigureAwait(false);
                        if (_options.AutoAllowAfter > 0)
                            await _store.IncrementAsync(check.AllowKey, 1, _options.PassLifetime, cancellationToken).ConfigureAwait(false);
                        break;
                    case GreylistState.Proven when accepted:
                        // Each use keeps a triplet alive for another pass lifetime, as postgrey does.
                        await _store.SetAsync(check.TripletKey, check.TripletValue(check.FirstSeen ?? check.Time, check.Time), _options.PassLifetime, cancellationToken).ConfigureAwait(false);
                        break;
                }
                if (check.TrapHit)
                    await _store.SetAsync(check.TrapKey, check.Time.ToUnixTimeSeconds() + "\n" + check.To, _options.TrapLifetime, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException) || !cancellationToken.IsCancellationRequested)
            {
                _failed?.Invoke("greylist state for " + check.Client + " not written (" + check.State + "): " + ex.Message);
            }
        }
    }
}
