using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Verification;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// A running smtpd: listeners on the configured end points, one asynchronous session per
    /// connection (no thread per client), limits on sessions in total and per client address,
    /// the rules file followed as it changes, and a graceful stop: no new sessions, idle ones get
    /// 421, transactions in flight get <see cref="SmtpProxyOptions.StopTimeout"/> to finish.
    /// </summary>
    public sealed partial class SmtpProxy : IDisposable
    {
        static int s_nextId;

        readonly ProxyRuntime _rt;
        readonly List<TcpListener> _listeners = new List<TcpListener>();
        readonly ConcurrentDictionary<Task, Socket> _sessions = new ConcurrentDictionary<Task, Socket>();
        readonly ConcurrentDictionary<IPAddress, int> _perClient = new ConcurrentDictionary<IPAddress, int>();
        readonly ConcurrentDictionary<string, int> _perNetwork = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        readonly List<Task> _acceptLoops = new List<Task>();
        readonly DnsClientResolver _dns;
        readonly JsonLinesLog _log;
        readonly TaskCompletionSource<bool> _stopped = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly TaskCompletionSource<bool> _drained = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        ControlEndpoint _control;
        Policy.DnsblGuard _dnsbl;
        long _sessionSerial;
        Timer _sweep;
        static readonly TimeSpan SweepInterval = TimeSpan.FromHours(1);

        void SweepSpool()
        {
            try
            {
                int removed = _rt.Spool.RemoveDebris();
                if (removed > 0) _rt.Events.Write(new ProxyEvent("spool", null, null, "removed " + removed + " crash leftovers"));
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException || ex is SpoolException)
            {
                _rt.Events.Write(new ProxyEvent("error", null, null, "spool sweep failed: " + ex.Message));
            }
        }

        SmtpProxy(SmtpProxyOptions options, RulesFile rulesFile, DnsClientResolver dns, SpoolWriter spool, JsonLinesLog log, IEventSink extra)
        {
            Id = Interlocked.Increment(ref s_nextId);
            Options = options;
            _dns = dns;
            _log = log;
            var events = new EventFanOut(log, extra);
            // Sessions share one bounded answer cache; the DNSBL guard asks past it for fresh answers.
            // Over the cache, a client's other lists are asked once the rules ask one (none without a cache to keep them).
            _rt = new ProxyRuntime(options, rulesFile, options.Dns.CacheEntries > 0
                                       ? new DnsblCompanionResolver(new DnsCache(dns, options.Dns.CacheEntries), new CompanionZones(rulesFile, () => _dnsbl?.Current).Current)
                                       : (IDnsResolver)dns, spool, events);
            rulesFile.Reloaded += (_, set) =>
            {
                events.Write(new ProxyEvent("rules", null, null, "reloaded " + set.Path, new[] { new KeyValuePair<string, object>("rules", set.Rules.Count) }));
                WriteWarnings(events, set);
            };
            rulesFile.ReloadFailed += (_, ex) => events.Write(new ProxyEvent("error", null, null, "rules not reloaded, the last good rules stay in force: " + ex.Message));
            foreach (var list in (options.RecipientVerification?.Sources ?? new VerificationSource[0]).Select(s => s.Source).OfType<RecipientListSource>())
            {
                list.Reloaded += (_, l) => events.Write(new ProxyEvent("recipients", null, null, "reloaded " + l.Path,
                    new[] { new KeyValuePair<string, object>("entries", l.EntryCount) }));
                list.ReloadFailed += (_, ex) => events.Write(new ProxyEvent("error", null, null, "recipient list not reloaded, the last good list stays in force: " + ex.Message));
            }
            if (options.SmartHostLimits != null)
                options.SmartHostLimits.Changed += (_, limits) => events.Write(SmartHostLimitsEvent.Of(limits, options.Limits.MaxMessageSize));
            StartTime = DateTimeOffset.Now;
        }

        // A file with warnings still loads; each warning is an event (log, -Wait console) at start
        // and at every reload, so an edit that makes a line dead is seen (issue 12).
        static void WriteWarnings(IEventSink events, RuleSet set)
        {
            foreach (var d in RuleWarningsOf(set))
                events.Write(new ProxyEvent("warning", null, null, d.ToString()));
        }

        static IEnumerable<RuleDiagnostic> RuleWarningsOf(RuleSet set)
        {
            var list = new List<RuleDiagnostic>();
            foreach (var d in set.Diagnostics)
                if (d.Severity == DiagnosticSeverity.Warning) list.Add(d);
            list.Sort((a, b) => a.Line != b.Line ? a.Line.CompareTo(b.Line) : a.Column.CompareTo(b.Column));
            return list;
        }

        /// <summary>The health of every DNSBL zone the rules name, as the guard last found it (empty with the guard off).</summary>
        public IReadOnlyList<DnsblProbeResult> DnsblZones => _dnsbl?.Current ?? new DnsblProbeResult[0];

        /// <summary>The RCPT verdicts counted per rule line of the rules in force, and per way of deciding
        /// without a line, since each row's start (see <see cref="Policy.RuleHitCounter"/>).</summary>
        public Policy.RuleHitSnapshot RuleHits => _rt.Hits.Snapshot(Id, ControlRequest.ProcessId);

        /// <summary>The warnings of the rules in force (<c>file:line:column: warning: ...</c>), in file order.</summary>
        public IReadOnlyList<RuleDiagnostic> RuleWarnings => new List<RuleDiagnostic>(RuleWarningsOf(_rt.RulesFile.Current));

        public int Id { get; }
        public SmtpProxyOptions Options { get; }
        /// <summary>The log's current file (as <see cref="ProxyStatus.LogPath"/>), so that a proxy binds to Get-SmtpdLog; null without a log.</summary>
        public string LogPath => Options.LogPath;
        public DateTimeOffset StartTime { get; }
        public IReadOnlyList<IPEndPoint> LocalEndPoints { get; private set; }
        public ProxyCounters Counters => _rt.Counters;
        /// <summary>Sessions since start (live).</summary>
        public long Sessions => _rt.Counters.Sessions;
        /// <summary>Sessions open now (live).</summary>
        public long Active => _rt.Counters.Active;
        /// <summary>Messages committed to the spool (live).</summary>
        public long Accepted => _rt.Counters.Accepted;
        /// <summary>Recipients refused while the session went on (live).</summary>
        public long Refused => _rt.Counters.Refused;
        /// <summary>Sessions closed by a deny rule (live).</summary>
        public long Denied => _rt.Counters.Denied;
        /// <summary>Message bytes committed (live).</summary>
        public long Bytes => _rt.Counters.Bytes;
        public string RulesPath => _rt.RulesFile.Path;
        /// <summary>What the smart host last said of its limits; null without <see cref="SmtpProxyOptions.SmartHostLimits"/>.</summary>
        public DownstreamLimits SmartHostLimits => _rt.Downstream?.Current;
        public string SpoolPath => _rt.Spool.Root;
        /// <summary>Completes when the proxy has stopped.</summary>
        public Task Completion => _stopped.Task;
        public bool IsRunning => !_stopped.Task.IsCompleted;

        /// <summary>Loads the rules, opens the spool, binds every end point and starts accepting.</summary>
        /// <exception cref="RuleFileException">The rules file cannot be read or has errors.</exception>
        /// <exception cref="SpoolException">The spool cannot be created or opened.</exception>
        /// <exception cref="ProxyStartException">An end point cannot be bound, the log cannot be opened,
        /// or other users may change the rules file or the spool (unless <see cref="SmtpProxyOptions.AllowInsecurePermissions"/>).</exception>
        /// <exception cref="ArgumentException">An option is invalid (e.g. a host name that is not one).</exception>
        public static SmtpProxy Start(SmtpProxyOptions options, IEventSink events = null)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            try
            {
                return StartOwning(options, events);
            }
            catch
            {
                // The proxy owns the refresher it was given, started or not.
                options.SmartHostLimits?.Dispose();
                throw;
            }
        }

        static SmtpProxy StartOwning(SmtpProxyOptions options, IEventSink events)
        {
            options.Validate();
            if (!options.AllowInsecurePermissions) DemandPrivate(options);
            var rulesFile = RulesFile.Open(options.RulesPath);
            var spool = SpoolWriter.Open(options.SpoolPath);
            JsonLinesLog log = null;
            try
            {
                if (options.LogPath != null) log = new JsonLinesLog(options.LogPath, options.LogRotation);
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException || ex is NotSupportedException)
            {
                spool.Dispose();
                throw new ProxyStartException(ProxyStartFailure.Log, options.LogPath, ex);
            }
            var dns = new DnsClientResolver(options.Dns);
            var proxy = new SmtpProxy(options, rulesFile, dns, spool, log, events);
            try
            {
                proxy.Bind();
            }
            catch
            {
                proxy.Dispose();
                proxy._rt.CloseState();
                spool.Dispose();
                throw;
            }
            proxy._rt.Events.Write(new ProxyEvent("start", null, null, "listening on " + string.Join(", ", proxy.LocalEndPoints),
                new[] { new KeyValuePair<string, object>("rules", rulesFile.Path), new KeyValuePair<string, object>("spool", spool.Root) }));
            WriteWarnings(proxy._rt.Events, rulesFile.Current);
            if (proxy._rt.StateNote != null) proxy._rt.Events.Write(new ProxyEvent("state", null, null, proxy._rt.StateNote));
            if (proxy._rt.State is State.RedisStateStore redis
                && !redis.WaitUntilConnectedAsync(options.Redis.ConnectTimeout).GetAwaiter().GetResult())
                proxy._rt.Events.Write(new ProxyEvent("state", null, null, "the state store " + redis.Name + " is not reachable yet; until it is, fail mode "
                                                      + options.RuleEvaluation.Greylist.FailMode + " decides"));
            // Probes start with the rules: a dead list is found before many sessions ask it.
            proxy._dnsbl = ProxyDnsblGuard.Start(options, dns, proxy._rt.State, rulesFile, proxy._rt.Events);
            _ = options.SmartHostLimits?.Current;   // starts the first probe while nobody waits for it
            foreach (var l in proxy._listeners) proxy._acceptLoops.Add(Task.Run(() => proxy.AcceptLoopAsync(l)));
            proxy.OpenControl();
            // Debris of a crash is too young to remove at open (a commit might be in flight): sweep hourly.
            proxy._sweep = new Timer(_ => proxy.SweepSpool(), null, SweepInterval, SweepInterval);
            return proxy;
        }

        /// <summary>Least privilege: nobody but the proxy's user may change its rules (the file and
        /// the directory it is in) or its spool (the root and its state directories). What does
        /// not exist yet is not checked: a missing rules file fails in its own way, and the spool
        /// creates its directories private.</summary>
        static void DemandPrivate(SmtpProxyOptions options)
        {
            var rulesPath = System.IO.Path.GetFullPath(options.RulesPath);
            foreach (var path in new[] { rulesPath, System.IO.Path.GetDirectoryName(rulesPath) })
            {
                var why = path == null ? null : FilePermissions.WhyInsecure(path);
                if (why != null)
                    throw new ProxyStartException(ProxyStartFailure.RulesFileInsecure, path, new UnauthorizedAccessException(why));
            }
            var spool = System.IO.Path.GetFullPath(options.SpoolPath);
            foreach (var path in new[] { spool }.Concat(SpoolLayout.AllDirectories.Select(d => System.IO.Path.Combine(spool, d))))
            {
                var why = FilePermissions.WhyInsecure(path);
                if (why != null)
                    throw new ProxyStartException(ProxyStartFailure.SpoolInsecure, path, new UnauthorizedAccessException(why));
            }
        }

        void Bind()
        {
            var bound = new List<IPEndPoint>();
            foreach (var ep in Options.Listen)
            {
                var listener = new TcpListener(ep);
                try
                {
                    if (ep.AddressFamily == AddressFamily.InterNetworkV6)
                        listener.Server.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, true);
                    listener.Start(512);
                }
                catch (SocketException ex)
                {
                    listener.Server.Dispose();
                    throw new ProxyStartException(ProxyStartFailure.Listen, ep.ToString(), ex);
                }
                _listeners.Add(listener);
                bound.Add((IPEndPoint)listener.LocalEndpoint);
            }
            LocalEndPoints = bound;
        }

        async Task AcceptLoopAsync(TcpListener listener)
        {
            int failures = 0;
            while (!_rt.IsStopping)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync().ConfigureAwait(false);
                    failures = 0;
                }
                catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException || ex is InvalidOperationException)
                {
                    if (_rt.IsStopping) return;
                    // A transient accept failure (out of descriptors, a reset in the backlog): pause briefly.
                    if (++failures > 100) { _rt.Events.Write(new ProxyEvent("error", null, null, "accept keeps failing: " + ex.Message)); }
                    await Task.Delay(Math.Min(1000, 10 * failures)).ConfigureAwait(false);
                    continue;
                }
                Admit(socket);
            }
        }

        static async Task RefuseAsync(Socket socket, SmtpReply reply)
        {
            try
            {
                var bytes = System.Text.Encoding.ASCII.GetBytes(reply.ToWire());
                var send = socket.SendAsync(new ArraySegment<byte>(bytes), SocketFlags.None);
                await Task.WhenAny(send, Task.Delay(5000)).ConfigureAwait(false);
            }
            catch (Exception ex) when (SmtpConnection.IsConnectionError(ex)) { }
            finally { socket.Dispose(); }
        }

        /// <summary>Where greylisting and the other checks keep their state (the embedded store unless one was given).</summary>
        public State.IStateStore StateStore => _rt.State;

        /// <summary>The control endpoint's path; null when there is none.</summary>
        public string ControlPath => _control?.Path;

        // Without a control channel the proxy still serves: it is an administrator's convenience.
        void OpenControl()
        {
            if (!Options.ControlChannel) return;
            try
            {
                _control = ControlEndpoint.Open(_rt.Spool.Root, ControlLocation.ProxyKind, Id, HandleControlAsync);
            }
            catch (Exception ex) when (ex is System.IO.IOException || ex is UnauthorizedAccessException
                                       || ex is PlatformNotSupportedException || ex is System.Net.Sockets.SocketException
                                       || ex is ArgumentException)   // a socket path longer than the system allows
            {
                _rt.Events.Write(new ProxyEvent("error", null, null, "no control channel (Get-/Stop-SmtpdProxy -SpoolPath will not find this proxy): " + ex.Message));
            }
        }

        async Task<string> HandleControlAsync(string request)
        {
            // Get-/Remove-SmtpdGreylistEntry -SpoolPath: answered from this proxy's store, whatever it is.
            var grey = await Greylist.GreylistControl.AnswerAsync(request, _rt.State, Options.RuleEvaluation.Greylist).ConfigureAwait(false);
            if (grey != null) return grey;
            // Get-SmtpdRuleHit -SpoolPath: the counts of the rules in force.
            var hits = Policy.RuleHitControl.Answer(request, () => RuleHits);
            if (hits != null) return hits;
            if (request == "status")
                return ProxyStatus.Fields(this, ControlRequest.ProcessId, IsRunning && !_rt.IsStopping).ToWire();
            if (ControlRequest.TryParseStop(request, out var timeout))
            {
                _rt.Events.Write(new ProxyEvent("stop", null, null, "stop requested through the control channel"));
                _ = StopAsync(timeout);
                await _drained.Task.ConfigureAwait(false);
                return ProxyStatus.Fields(this, ControlRequest.ProcessId, false).ToWire();
            }
            return ControlRequest.Unknown;
        }

        /// <summary>
        /// Stops gracefully: listeners close, idle sessions are told 421 and closed, sessions in a
        /// transaction may finish within <paramref name="timeout"/> (default: the options'); any still
        /// open then are closed, which aborts their uncommitted messages — nothing acknowledged is lost.
        /// </summary>
        public async Task StopAsync(TimeSpan? timeout = null)
        {
            if (_rt.IsStopping) { await Completion.ConfigureAwait(false); return; }
            _rt.SignalStop();
            _sweep?.Dispose();
            _dnsbl?.Dispose();
            foreach (var l in _listeners) { try { l.Stop(); } catch (SocketException) { } }
            var all = _sessions.Keys.ToArray();
            var finished = Task.WhenAll(all);
            if (await Task.WhenAny(finished, Task.Delay(timeout ?? Options.StopTimeout)).ConfigureAwait(false) != finished)
            {
                foreach (var s in _sessions.Values) { try { s.Dispose(); } catch (ObjectDisposedException) { } }
                await Task.WhenAny(finished, Task.Delay(5000)).ConfigureAwait(false);
            }
            try { await Task.WhenAll(_acceptLoops).ConfigureAwait(false); } catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException) { }
            _rt.Spool.Dispose();   // the free slots' files; the sessions are done with it
            _rt.Events.Write(new ProxyEvent("stop", null, null, "stopped", new[] { new KeyValuePair<string, object>("accepted", Counters.Accepted) }));
            // The answer to a stop request is written before the proxy says it has stopped: a
            // host that exits when Completion ends must not cut it off.
            _drained.TrySetResult(true);
            if (_control != null) await _control.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            _dns.Dispose();
            Options.SmartHostLimits?.Dispose();
            Options.RecipientVerification?.DisposeSources();
            _rt.CloseState();
            _log?.Dispose();
            CloseMetrics();
            _stopped.TrySetResult(true);
        }

        public void Dispose()
        {
            if (IsRunning) StopAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        }
    }
}
