using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.State;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Watches every DNSBL zone the rules name, one monitor per zone shared by all sessions: probes
    /// the RFC 5782 test points (<see cref="DnsblProbe"/>) when a zone first appears in the rules and
    /// then every <see cref="DnsblGuardOptions.Interval"/>, and keeps each zone's verdict in the state
    /// store (<see cref="DnsblHealth"/>), where every session's checks read it as a fact.
    /// </summary>
    /// <remarks>
    /// Lists shut down have answered "listed" for every address (ORDB, DSBL, AHBL), and Spamhaus
    /// answers 127.255.255.x to a query it will not serve; either could refuse all mail. An
    /// unhealthy zone's tokens match nothing until a probe passes again. A probe that is not
    /// answered counts only after <see cref="DnsblGuardOptions.FailuresUnhealthy"/> in a row: until
    /// then the zone keeps its last verdict. The stored verdict expires three intervals after it was
    /// written, so a guard that stopped leaves the zone unknown (trusted), never stuck unhealthy.
    /// Unknown health, before the first probe answers, is trusted as the original trusted every list.
    /// </remarks>
    public sealed class DnsblGuard : IDisposable
    {
        readonly IDnsResolver _dns;
        readonly IStateStore _state;
        readonly DnsblGuardOptions _options;
        readonly object _gate = new object();
        readonly Dictionary<string, Monitor> _zones = new Dictionary<string, Monitor>(StringComparer.OrdinalIgnoreCase);
        bool _disposed;

        /// <param name="dns">The resolver probes ask (not the sessions' cache: a probe wants a fresh answer).</param>
        /// <param name="state">Where verdicts are kept for the sessions to read.</param>
        /// <param name="options">Intervals and the failure count; null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="dns"/> or <paramref name="state"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
        public DnsblGuard(IDnsResolver dns, IStateStore state, DnsblGuardOptions options = null)
        {
            _dns = dns ?? throw new ArgumentNullException(nameof(dns));
            _state = state ?? throw new ArgumentNullException(nameof(state));
            _options = options?.Clone() ?? new DnsblGuardOptions();
            _options.Validate();
        }

        /// <summary>A zone's verdict changed (the first verdict included). Raised on a pool thread; handlers must not throw.</summary>
        public event EventHandler<DnsblProbeResult> Changed;

        /// <summary>The verdict could not be kept in the state store (the message says why).</summary>
        public event EventHandler<string> Error;

        /// <summary>Every watched zone's latest verdict, in the order the zones were first named.</summary>
        public IReadOnlyList<DnsblProbeResult> Current
        {
            get { lock (_gate) return _zones.Values.OrderBy(m => m.Order).Select(m => m.Last).ToArray(); }
        }

        /// <summary>Watches exactly <paramref name="zones"/>: new ones are probed at once, dropped ones are no longer probed.</summary>
        public void Track(IEnumerable<string> zones)
        {
            var wanted = new HashSet<string>(zones ?? Enumerable.Empty<string>(), StringComparer.OrdinalIgnoreCase);
            lock (_gate)
            {
                if (_disposed) return;
                foreach (var gone in _zones.Keys.Where(z => !wanted.Contains(z)).ToArray())
                {
                    _zones[gone].Stop();
                    _zones.Remove(gone);
                }
                foreach (var zone in wanted.Where(z => !_zones.ContainsKey(z)))
                {
                    var m = new Monitor(this, zone, _zones.Count == 0 ? 0 : _zones.Values.Max(x => x.Order) + 1);
                    _zones[zone] = m;
                    m.Start();
                }
            }
        }

        /// <summary>Probes <paramref name="zones"/> once each, stores the verdicts, and returns them:
        /// what Test-SmtpdRule does before it decides. A probe not answered is returned but not stored:
        /// one lost answer does not make a list unhealthy in the proxy either.</summary>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public static async Task<IReadOnlyList<DnsblProbeResult>> ProbeOnceAsync(IDnsResolver dns, IStateStore state, IEnumerable<string> zones,
                                                                                 TimeSpan lifetime, CancellationToken cancellationToken = default)
        {
            var results = await Task.WhenAll(zones.Select(z => DnsblProbe.ProbeAsync(dns, z, cancellationToken))).ConfigureAwait(false);
            foreach (var r in results.Where(x => x.Status != DnsblHealthStatus.Timeout))
                await state.SetAsync(DnsblHealth.StateKey(r.Zone), DnsblHealth.ToStateValue(r), lifetime).ConfigureAwait(false);
            return results;
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                foreach (var m in _zones.Values) m.Stop();
                _zones.Clear();
            }
        }

        /// <summary>One zone's probe loop.</summary>
        sealed class Monitor
        {
            readonly DnsblGuard _guard;
            readonly CancellationTokenSource _stop = new CancellationTokenSource();
            int _failures;

            public Monitor(DnsblGuard guard, string zone, int order)
            {
                _guard = guard;
                Zone = zone;
                Order = order;
                Last = DnsblProbeResult.NotProbed(zone);
            }

            public string Zone { get; }
            public int Order { get; }
            public DnsblProbeResult Last { get; private set; }

            public void Start() => _ = Task.Run(LoopAsync);
            public void Stop() => _stop.Cancel();

            async Task LoopAsync()
            {
                var o = _guard._options;
                var token = _stop.Token;
                while (!token.IsCancellationRequested)
                {
                    TimeSpan wait = o.Interval;
                    try
                    {
                        var probe = await DnsblProbe.ProbeAsync(_guard._dns, Zone, token).ConfigureAwait(false);
                        var verdict = Judge(probe, o);
                        if (probe.Status == DnsblHealthStatus.Timeout && o.RetryInterval < wait) wait = o.RetryInterval;
                        await KeepAsync(verdict, o, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (token.IsCancellationRequested) { return; }
                    catch (Exception ex) when (!(ex is OutOfMemoryException))
                    {
                        _guard.Error?.Invoke(_guard, "DNSBL probe of " + Zone + " failed: " + ex.Message);
                    }
                    try { await Task.Delay(wait, token).ConfigureAwait(false); }
                    catch (OperationCanceledException) { return; }
                }
            }

            /// <summary>A probe not answered changes nothing until it has happened enough times in a row.</summary>
            DnsblProbeResult Judge(DnsblProbeResult probe, DnsblGuardOptions o)
            {
                if (probe.Status != DnsblHealthStatus.Timeout) { _failures = 0; return probe; }
                if (++_failures >= o.FailuresUnhealthy)
                    return probe.As(DnsblHealthStatus.Timeout, _failures + " probes in a row not answered (" + probe.Detail + ")");
                return Last.Status == DnsblHealthStatus.Unknown ? DnsblProbeResult.NotProbed(Zone) : Last;
            }

            async Task KeepAsync(DnsblProbeResult verdict, DnsblGuardOptions o, CancellationToken token)
            {
                var previous = Last;
                Last = verdict;
                if (verdict.Status != DnsblHealthStatus.Unknown)
                {
                    var lifetime = TimeSpan.FromTicks(Math.Max(o.Interval.Ticks * 3, TimeSpan.FromMinutes(1).Ticks));
                    try { await _guard._state.SetAsync(DnsblHealth.StateKey(Zone), DnsblHealth.ToStateValue(verdict), lifetime, token).ConfigureAwait(false); }
                    catch (Exception ex) when (!(ex is OperationCanceledException))
                    {
                        _guard.Error?.Invoke(_guard, "DNSBL health of " + Zone + " not stored: " + ex.Message);
                    }
                }
                if (verdict.Status != previous.Status && !token.IsCancellationRequested)
                    _guard.Changed?.Invoke(_guard, verdict);
            }
        }
    }
}
