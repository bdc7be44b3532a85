using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// smtpfwdd: takes the messages that are due from the spool, hands each to the transport, and
    /// records what became of every recipient (reference §5.2, with the fixes of §9: back-off, a
    /// maximum queue age, bounces, no lost files). Runs as a daemon (<see cref="Start"/>) or once
    /// over what is due now (<see cref="RunOnceAsync"/>), as a scheduled task would.
    /// </summary>
    /// <remarks>
    /// Any number of forwarders, in this process or others, may share a spool: each claims a
    /// message by renaming it into its own directory (<see cref="SpoolLease"/>), so a message is
    /// delivered by one of them at a time, and the claims of one that dies are given back.
    /// A slot is taken before a claim, so a busy forwarder leaves due mail to its peers.
    /// </remarks>
    public sealed partial class Forwarder : IDisposable
    {
        static int s_nextId;

        readonly ForwarderOptions _options;
        readonly IEventSink _events;
        readonly SpoolLease _lease;
        readonly MessageAttempt _attempt;
        readonly SemaphoreSlim _slots;
        readonly SpoolWakeup _wakeup = new SpoolWakeup();
        readonly CancellationTokenSource _stopClaiming = new CancellationTokenSource();
        readonly CancellationTokenSource _abort = new CancellationTokenSource();
        readonly TaskCompletionSource<bool> _stopped = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        readonly DueMessages _due;
        readonly InFlightTasks _inFlight = new InFlightTasks();
        readonly TaskCompletionSource<bool> _drained = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        ControlEndpoint _control;
        JsonLinesLog _log;
        DateTimeOffset _lastRecovery = DateTimeOffset.MinValue;
        long _found, _done;

        Forwarder(ForwarderOptions options, IEventSink events, SpoolLease lease, SpoolWriter writer)
        {
            _options = options;
            _events = events;
            _lease = lease;
            _slots = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
            _attempt = new MessageAttempt(options, new BounceSpooler(writer, options.HostName));
            _due = new DueMessages(lease.Root, ListFailed);
            Id = Interlocked.Increment(ref s_nextId);
            StartTime = DateTimeOffset.Now;
        }

        public int Id { get; }
        public DateTimeOffset StartTime { get; }
        public string SpoolPath => _lease.Root;
        public string Target => _options.Transport.Target;
        /// <summary>The log's current file (<see cref="ForwarderOptions.LogPath"/>), so that a forwarder binds to
        /// Get-SmtpdLog and Export-SmtpdReport as a proxy does; null without a log.</summary>
        public string LogPath => _options.LogPath;

        /// <summary>This forwarder's name in the spool (its directory under <c>active/</c>).</summary>
        public string Owner => _lease.Owner;

        public ForwarderCounters Counters { get; } = new ForwarderCounters();
        public long Attempts => Counters.Attempts;
        public long Forwarded => Counters.Forwarded;
        public long Deferred => Counters.Deferred;
        public long Failed => Counters.Failed;
        public long Bounced => Counters.Bounced;
        public long Active => Counters.Active;

        /// <summary>Completes when the forwarder has stopped.</summary>
        public Task Completion => _stopped.Task;
        public bool IsRunning => !_stopped.Task.IsCompleted;

        /// <summary>Starts a forwarder that runs until <see cref="StopAsync"/>: it watches
        /// <c>ready/</c> for new mail and scans the spool every <see cref="ForwarderOptions.PollInterval"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are incomplete or out of range.</exception>
        /// <exception cref="SpoolException">There is no spool at the path, or it cannot be used.</exception>
        public static Forwarder Start(ForwarderOptions options, IEventSink events = null)
        {
            var forwarder = Open(options, events);
            forwarder.Watch();
            forwarder.OpenControl();
            _ = forwarder.RunDaemonAsync();
            return forwarder;
        }

        /// <summary>The control endpoint's path; null when there is none.</summary>
        public string ControlPath => _control?.Path;

        // Without a control channel the forwarder still works: it is an administrator's convenience.
        void OpenControl()
        {
            if (!_options.ControlChannel) return;
            try
            {
                _control = ControlEndpoint.Open(SpoolPath, ControlLocation.ForwarderKind, Id, HandleControlAsync);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException
                                       || ex is PlatformNotSupportedException || ex is System.Net.Sockets.SocketException
                                       || ex is ArgumentException)   // a socket path longer than the system allows
            {
                Emit("error", null, "no control channel (Get-/Stop-SmtpFwd -SpoolPath will not find this forwarder): " + ex.Message);
            }
        }

        async Task<string> HandleControlAsync(string request)
        {
            if (request == ControlRequest.Status)
                return ForwarderStatus.Fields(this, ControlRequest.ProcessId, IsRunning && !_stopClaiming.IsCancellationRequested).ToWire();
            if (ControlRequest.TryParseStop(request, out var timeout))
            {
                Emit("stop", null, "stop requested through the control channel");
                _ = StopAsync(timeout);
                await _drained.Task.ConfigureAwait(false);
                return ForwarderStatus.Fields(this, ControlRequest.ProcessId, false).ToWire();
            }
            return ControlRequest.Unknown;
        }

        /// <summary>Delivers everything due now (ready messages, deferred ones whose time has
        /// come, and bounces made on the way), then returns: what a scheduled task runs.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
        /// <exception cref="ArgumentException">The options are incomplete or out of range.</exception>
        /// <exception cref="SpoolException">There is no spool at the path, or it cannot be used.</exception>
        /// <exception cref="OperationCanceledException">Cancelled; messages being delivered are
        /// given back to the spool unchanged.</exception>
        public static async Task<ForwardSummary> RunOnceAsync(ForwarderOptions options, IProgress<ForwardProgress> progress = null,
                                                              IEventSink events = null, CancellationToken cancellationToken = default)
        {
            var forwarder = Open(options, events);
            var clock = Stopwatch.StartNew();
            using (cancellationToken.Register(() => forwarder._abort.Cancel()))
            {
                try
                {
                    while (true)
                    {
                        var dispatched = await forwarder.DispatchDueAsync(progress).ConfigureAwait(false);
                        await forwarder._inFlight.WaitAllAsync().ConfigureAwait(false);
                        cancellationToken.ThrowIfCancellationRequested();
                        if (dispatched == 0) break;   // a pass that found nothing: done (bounces of the last pass were found by this one)
                    }
                }
                finally
                {
                    await forwarder.ShutdownAsync().ConfigureAwait(false);
                }
            }
            var c = forwarder.Counters;
            // The last pass read the due time of every message left in deferred/ (DueMessages.Find).
            return new ForwardSummary(forwarder.SpoolPath, forwarder.Target, c.Forwarded, c.Deferred, c.Failed, c.Bounced, c.Errors, clock.Elapsed,
                                      forwarder._due.DeferredCount, forwarder._due.Earliest);
        }

        static Forwarder Open(ForwarderOptions options, IEventSink events)
        {
            if (options == null) throw new ArgumentNullException(nameof(options));
            options.Validate();
            if (string.IsNullOrEmpty(options.HostName)) options.HostName = LocalHostName();
            // A missing or empty directory becomes a new spool (the forwarder may start before the
            // proxy); a directory holding anything else is not taken for one.
            if (!IsNewSpool(options.SpoolPath)) SpoolQueue.Open(options.SpoolPath);
            // Bounces are rare: they create their own files, and the forwarder holds no pool of
            // open slots (IncomingSlots) beside the proxy's.
            var writer = SpoolWriter.Open(options.SpoolPath, SpoolWriter.OrphanAge, null, slots: false);
            JsonLinesLog log = null;
            if (options.LogPath != null)
            {
                log = new JsonLinesLog(options.LogPath, options.LogRotation);
                events = events == null ? (IEventSink)log : new EventFanOut(log, events);
            }
            var lease = SpoolLease.Acquire(writer.Root);
            var forwarder = new Forwarder(options, events, lease, writer) { _log = log };
            forwarder.Emit("start", null, "forwarding " + writer.Root + " to " + options.Transport.Target);
            forwarder.Recover(force: true);
            return forwarder;
        }

        /// <summary>Stops: claims no more messages, lets those being delivered finish within
        /// <paramref name="timeout"/> (default 30 s), then cancels the rest, which go back to the
        /// spool as they were.</summary>
        public async Task StopAsync(TimeSpan? timeout = null)
        {
            _stopClaiming.Cancel();
            _wakeup.Signal();
            var drained = Completion;
            if (await Task.WhenAny(drained, Task.Delay(timeout ?? TimeSpan.FromSeconds(30))).ConfigureAwait(false) != drained)
                _abort.Cancel();
            await drained.ConfigureAwait(false);
        }

        public void Dispose() => StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();

        async Task RunDaemonAsync()
        {
            try
            {
                while (!_stopClaiming.IsCancellationRequested)
                {
                    Recover(force: false);
                    var dispatched = await DispatchDueAsync(null).ConfigureAwait(false);
                    if (dispatched > 0) continue;   // rescan at once: more may have arrived meanwhile
                    await WaitForWorkAsync().ConfigureAwait(false);
                }
                await _inFlight.WaitAllAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                Emit("error", null, "forwarder stopped by an unexpected error: " + ex.Message);
            }
            finally
            {
                await ShutdownAsync().ConfigureAwait(false);
            }
        }

        async Task ShutdownAsync()
        {
            try { await _inFlight.WaitAllAsync().ConfigureAwait(false); } catch (Exception) { }
            _wakeup.Dispose();
            _lease.Dispose();
            _options.Transport.Dispose();
            Emit("stop", null, "forwarded " + Counters.Forwarded + ", deferred " + Counters.Deferred + ", failed " + Counters.Failed);
            // The answer to a stop request (what was delivered) goes out before Completion ends.
            _drained.TrySetResult(true);
            if (_control != null) await _control.CloseAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
            _log?.Dispose();
            CloseMetrics();
            _stopped.TrySetResult(true);
        }

        // Sleeps until a change in ready/, the poll interval, the next deferred message's time, or a stop.
        async Task WaitForWorkAsync()
        {
            var wait = _options.PollInterval;
            var earliest = _due.Earliest;
            var now = DateTimeOffset.UtcNow;
            if (earliest != null && earliest.Value - now < wait) wait = earliest.Value - now;
            if (wait < TimeSpan.FromMilliseconds(10)) wait = TimeSpan.FromMilliseconds(10);
            await _wakeup.WaitAsync(wait, _stopClaiming.Token).ConfigureAwait(false);
        }

        void Watch()
        {
            try
            {
                _wakeup.Watch(SpoolPath);
            }
            catch (Exception ex) when (ex is IOException || ex is ArgumentException || ex is PlatformNotSupportedException)
            {
                // Polling alone still finds everything, only later (inotify limits, network shares).
                Emit("error", null, "cannot watch the spool, polling only: " + ex.Message);
            }
        }

        void Recover(bool force)
        {
            var now = DateTimeOffset.UtcNow;
            if (!force && now - _lastRecovery < _options.RecoveryInterval) return;
            _lastRecovery = now;
            try
            {
                var n = _lease.RecoverAbandoned();
                if (n > 0) Emit("recovered", null, n + " message(s) given back from forwarders that stopped without finishing");
            }
            catch (SpoolException ex)
            {
                Counters.AddError();
                Emit("error", null, "recovery failed: " + ex.Message);
            }
        }

        /// <summary>Claims and starts every message due now, a free slot at a time.</summary>
        /// <returns>How many were started.</returns>
        async Task<int> DispatchDueAsync(IProgress<ForwardProgress> progress)
        {
            var started = 0;
            foreach (var (state, id) in _due.Find())
            {
                try { await _slots.WaitAsync(_stopClaiming.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                if (_abort.IsCancellationRequested) { _slots.Release(); break; }
                ClaimedMessage claim;
                try { claim = _lease.TryClaim(state, id); }
                catch (SpoolException ex)
                {
                    _slots.Release();
                    Counters.AddError();
                    Emit("error", id, "cannot take the message: " + ex.Message);
                    continue;
                }
                if (claim == null) { _slots.Release(); continue; }   // a peer took it
                _due.Claimed(id);
                started++;
                Interlocked.Increment(ref _found);
                _inFlight.Track(DeliverAsync(claim, progress));
            }
            return started;
        }

        void ListFailed(string why)
        {
            Counters.AddError();
            Emit("error", null, why);
        }

        async Task DeliverAsync(ClaimedMessage claim, IProgress<ForwardProgress> progress)
        {
            await Task.Yield();
            Counters.AddAttempt();
            var clock = Stopwatch.StartNew();
            try
            {
                var outcome = await _attempt.RunAsync(claim, _abort.Token).ConfigureAwait(false);
                Counters.AddTiming(clock.Elapsed, outcome, claim.Envelope.Received, DateTimeOffset.UtcNow);
                Counters.AddOutcome(outcome);
                _events?.Write(outcome.ToEvent(claim.Id));
            }
            catch (OperationCanceledException)
            {
                GiveBack(claim);
            }
            catch (SpoolException ex)
            {
                Counters.AddError();
                Emit("error", claim.Id, "cannot record the attempt: " + ex.Message);
                GiveBack(claim);
            }
            catch (Exception ex)
            {
                // A transport that broke its contract; the message goes back untouched.
                Counters.AddError();
                Emit("error", claim.Id, "delivery failed unexpectedly: " + ex.GetType().Name + ": " + ex.Message);
                GiveBack(claim);
            }
            finally
            {
                Counters.EndAttempt();
                _slots.Release();
                var done = Interlocked.Increment(ref _done);
                progress?.Report(new ForwardProgress(done, Interlocked.Read(ref _found), claim.Id));
            }
        }

        void GiveBack(ClaimedMessage claim)
        {
            try { _lease.Finish(claim, claim.ClaimedFrom == SpoolState.Deferred ? SpoolState.Deferred : SpoolState.Ready); }
            catch (SpoolException) { }   // still in active/: given back when the lease ends or recovered after a crash
        }

        void Emit(string kind, string id, string message)
        {
            _events?.Write(new ProxyEvent(kind, id, null, message));
        }

        static bool IsNewSpool(string root)
        {
            try { return !Directory.Exists(root) || !Directory.EnumerateFileSystemEntries(root).GetEnumerator().MoveNext(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return false; }
        }

        static string LocalHostName()
        {
            try
            {
                var name = System.Net.Dns.GetHostName();
                return string.IsNullOrEmpty(name) ? "localhost" : name;
            }
            catch (System.Net.Sockets.SocketException) { return "localhost"; }
        }
    }
}
