using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// A token bucket: <c>rate</c> tokens a second, holding at most one second's worth (at least
    /// one token), so a burst of <c>rate</c> new connections is allowed and the average never
    /// exceeds it. Thread-safe.
    /// </summary>
    internal sealed class CallaheadRateLimiter
    {
        readonly object _lock = new object();
        readonly double _rate;
        readonly double _capacity;
        readonly Func<long> _clock;
        double _tokens;
        long _last;

        public CallaheadRateLimiter(double perSecond) : this(perSecond, Stopwatch.GetTimestamp)
        {
        }

        /// <param name="perSecond">Tokens a second (positive).</param>
        /// <param name="clock">Stopwatch ticks (<see cref="Stopwatch.Frequency"/> a second); tests pass their own.</param>
        internal CallaheadRateLimiter(double perSecond, Func<long> clock)
        {
            _rate = perSecond;
            _capacity = Math.Max(1.0, perSecond);
            _clock = clock;
            _tokens = _capacity;
            _last = clock();
        }

        /// <summary>Takes a token if there is one; otherwise says how long until the next.</summary>
        public bool TryTake(out TimeSpan wait)
        {
            lock (_lock)
            {
                var now = _clock();
                _tokens = Math.Min(_capacity, _tokens + (now - _last) / (double)Stopwatch.Frequency * _rate);
                _last = now;
                if (_tokens >= 1)
                {
                    _tokens -= 1;
                    wait = TimeSpan.Zero;
                    return true;
                }
                wait = TimeSpan.FromSeconds((1 - _tokens) / _rate);
                return false;
            }
        }

        /// <summary>Waits for a token for at most <paramref name="maxWait"/>; false when none came
        /// in time (given up at once when the next token is due later than that).</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired.</exception>
        public async Task<bool> WaitAsync(TimeSpan maxWait, CancellationToken cancellationToken)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
            while (true)
            {
                if (TryTake(out var wait)) return true;
                var left = TimeSpan.FromSeconds((deadline - Stopwatch.GetTimestamp()) / (double)Stopwatch.Frequency);
                if (wait > left) return false;
                // Others may take the token first; then this waits again, within the same deadline.
                await Task.Delay(wait + TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
