using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// Keeps the downstream's last good <see cref="DownstreamLimits"/> and refreshes them every
    /// <c>refreshInterval</c>, on demand and in the background: a reader never waits for a probe,
    /// except the very first, and that only up to <c>firstReadTimeout</c>. Thread-safe.
    /// </summary>
    /// <remarks>
    /// <para>A downstream that cannot be asked keeps the last limits known (a restart of the
    /// smart host does not change them); when none were ever learned the answer is not known
    /// (<see cref="DownstreamLimits.IsKnown"/> false) and callers use their own defaults. After
    /// a failed probe the next is due after at most a minute, not a whole interval. At most one
    /// probe runs at a time.</para>
    /// </remarks>
    public sealed class DownstreamLimitsRefresher : IDisposable
    {
        static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

        readonly object _lock = new object();
        readonly Func<CancellationToken, Task<DownstreamLimits>> _probe;
        readonly long _interval;
        readonly long _retry;
        readonly TimeSpan _firstReadTimeout;
        readonly Func<long> _clock;
        readonly CancellationTokenSource _disposed = new CancellationTokenSource();
        DownstreamLimits _known;
        DownstreamLimits _lastFailure;
        DownstreamLimits _lastProbe;
        Task _running;
        Task _first;
        long _due;

        /// <param name="probe">Asks the downstream.</param>
        /// <param name="refreshInterval">How old the limits may grow before a read starts a
        /// refresh; null means 60 minutes.</param>
        /// <param name="firstReadTimeout">How long <see cref="GetAsync"/> waits for the very first
        /// probe; null means 5 seconds.</param>
        /// <exception cref="ArgumentNullException"><paramref name="probe"/> is null.</exception>
        /// <exception cref="ArgumentException">An interval or timeout that is not positive.</exception>
        public DownstreamLimitsRefresher(DownstreamLimitsProbe probe, TimeSpan? refreshInterval = null, TimeSpan? firstReadTimeout = null)
            : this((probe ?? throw new ArgumentNullException(nameof(probe))).ProbeAsync,
                   refreshInterval ?? TimeSpan.FromMinutes(60), firstReadTimeout ?? TimeSpan.FromSeconds(5), Stopwatch.GetTimestamp)
        {
        }

        /// <param name="probe">Asks the downstream; tests pass their own.</param>
        /// <param name="refreshInterval">See the public constructor.</param>
        /// <param name="firstReadTimeout">See the public constructor.</param>
        /// <param name="clock">Stopwatch ticks; tests pass their own.</param>
        internal DownstreamLimitsRefresher(Func<CancellationToken, Task<DownstreamLimits>> probe, TimeSpan refreshInterval,
                                           TimeSpan firstReadTimeout, Func<long> clock)
        {
            if (refreshInterval <= TimeSpan.Zero) throw new ArgumentException("The refresh interval must be positive.", nameof(refreshInterval));
            if (firstReadTimeout <= TimeSpan.Zero) throw new ArgumentException("The first read timeout must be positive.", nameof(firstReadTimeout));
            _probe = probe;
            _interval = Ticks(refreshInterval);
            _retry = Ticks(refreshInterval < RetryAfterFailure ? refreshInterval : RetryAfterFailure);
            _firstReadTimeout = firstReadTimeout;
            _clock = clock;
            _due = clock();
        }

        /// <summary>The last limits known, or not known (with the last error) when none were
        /// learned; starts a refresh in the background when one is due. Never blocks.</summary>
        public DownstreamLimits Current
        {
            get
            {
                lock (_lock)
                {
                    StartIfDue();
                    return _known ?? _lastFailure ?? DownstreamLimits.Unknown;
                }
            }
        }

        /// <summary>A probe brought an answer different in substance from the probe before it
        /// (<see cref="DownstreamLimits.SameAs"/>): the first answer, new limits, the first failure
        /// after an answer, an answer after failures. Raised on the probe's thread, after
        /// <see cref="Current"/> has changed; a failure leaves <see cref="Current"/> at the last
        /// limits known, if any.</summary>
        public event EventHandler<DownstreamLimits> Changed;

        /// <summary>A probe is running (for tests).</summary>
        internal bool Refreshing
        {
            get { lock (_lock) return _running != null; }
        }

        /// <summary>As <see cref="Current"/>, but the very first read waits for the first probe,
        /// up to the first read timeout.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
        /// <exception cref="ObjectDisposedException">The refresher has been disposed.</exception>
        public async Task<DownstreamLimits> GetAsync(CancellationToken cancellationToken = default)
        {
            if (_disposed.IsCancellationRequested) throw new ObjectDisposedException(nameof(DownstreamLimitsRefresher));
            Task first;
            lock (_lock)
            {
                StartIfDue();
                first = _first;
            }
            if (first != null && !first.IsCompleted)
            {
                using (var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
                {
                    var timer = Task.Delay(_firstReadTimeout, wait.Token);
                    await Task.WhenAny(first, timer).ConfigureAwait(false);
                    wait.Cancel();
                }
                cancellationToken.ThrowIfCancellationRequested();
            }
            return Current;
        }

        /// <summary>Probes now (or joins the probe running) and returns what is known after it.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
        /// <exception cref="ObjectDisposedException">The refresher has been disposed.</exception>
        public async Task<DownstreamLimits> RefreshAsync(CancellationToken cancellationToken = default)
        {
            if (_disposed.IsCancellationRequested) throw new ObjectDisposedException(nameof(DownstreamLimitsRefresher));
            Task running;
            lock (_lock)
            {
                if (_running == null) Start();
                running = _running;
            }
            var cancelled = Task.Delay(Timeout.Infinite, cancellationToken);
            if (await Task.WhenAny(running, cancelled).ConfigureAwait(false) == cancelled)
                cancellationToken.ThrowIfCancellationRequested();
            lock (_lock) return _known ?? _lastFailure ?? DownstreamLimits.Unknown;
        }

        void StartIfDue()
        {
            if (_running == null && !_disposed.IsCancellationRequested && _clock() - _due >= 0) Start();
        }

        void Start()
        {
            var task = RunAsync();
            // RunAsync may finish synchronously and clear _running before this line; keep it clear then.
            if (!task.IsCompleted) _running = task;
            if (_first == null) _first = task;
        }

        async Task RunAsync()
        {
            await Task.Yield();   // the caller holds the lock; the probe runs outside it
            DownstreamLimits result;
            try
            {
                result = await _probe(_disposed.Token).ConfigureAwait(false)
                         ?? DownstreamLimits.Unavailable("the probe returned nothing");
            }
            catch (OperationCanceledException) when (_disposed.IsCancellationRequested)
            {
                lock (_lock) _running = null;
                return;
            }
            catch (Exception ex)
            {
                result = DownstreamLimits.Unavailable("the probe failed: " + ex.Message);
            }
            bool changed;
            lock (_lock)
            {
                changed = !result.SameAs(_lastProbe);
                _lastProbe = result;
                if (result.IsKnown)
                {
                    _known = result;
                    _due = _clock() + _interval;
                }
                else
                {
                    _lastFailure = result;
                    _due = _clock() + _retry;
                }
                _running = null;
            }
            if (changed) Changed?.Invoke(this, result);
        }

        static long Ticks(TimeSpan span) => (long)Math.Min(long.MaxValue / 4.0, span.TotalSeconds * Stopwatch.Frequency);

        /// <summary>Cancels a probe in flight; later reads return what is known and start nothing.</summary>
        public void Dispose()
        {
            if (_disposed.IsCancellationRequested) return;
            _disposed.Cancel();
        }
    }
}
