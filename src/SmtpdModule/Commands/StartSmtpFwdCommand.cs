using System;
using System.IO;
using System.Management.Automation;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Metrics;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Start-SmtpFwd: smtpfwdd. Hands the spool's mail to the real mail server through one
    /// transport (a smart host over SMTP, a sendmail-compatible program, or a pickup directory),
    /// retrying what fails with back-off and bouncing what fails for good. Runs in the background
    /// and returns the forwarder (-Wait blocks), or with -Once forwards what is due and returns a
    /// summary: what a scheduled task runs.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Start, "SmtpFwd", DefaultParameterSetName = SmartHostSet)]
    [OutputType(typeof(Forwarder), typeof(ForwardSummary))]
    public sealed class StartSmtpFwdCommand : SmtpdCmdlet
    {
        const string SmartHostSet = "SmartHost", SendmailSet = "Sendmail", PickupSet = "PickupDirectory";

        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SmartHostSet)]
        [ValidateNotNullOrEmpty]
        public string SmartHost { get; set; }

        [Parameter(ParameterSetName = SmartHostSet)]
        public SmtpTlsMode TlsMode { get => (SmtpTlsMode)_tlsMode; set => _tlsMode = (int)value; }
        // Held as a number: a field of an engine enum would make PowerShell load the engine while it
        // lists this assembly's types, before Hosting/ModuleInitializer.cs has said where it is.
        int _tlsMode = (int)SmtpTlsMode.StartTlsWhenAvailable;

        [Parameter(ParameterSetName = SmartHostSet)]
        [Credential]
        public PSCredential Credential { get; set; }

        [Parameter(ParameterSetName = SmartHostSet)]
        public SwitchParameter SkipCertificateCheck { get; set; }

        [Parameter(ParameterSetName = SmartHostSet)]
        public SwitchParameter AllowPlainTextAuthentication { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = SendmailSet)]
        [ValidateNotNullOrEmpty]
        public string SendmailPath { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = PickupSet)]
        [ValidateNotNullOrEmpty]
        public string PickupDirectory { get; set; }

        [Parameter]
        [ValidateRange(1, 1000)]
        public int MaxConnections { get; set; } = 4;

        [Parameter]
        public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

        [Parameter]
        [ValidateNotNullOrEmpty]
        public TimeSpan[] RetryInterval { get; set; }

        [Parameter]
        public TimeSpan MaxQueueLifetime { get; set; } = RetrySchedule.DefaultMaxQueueLifetime;

        [Parameter]
        public SwitchParameter NoBounce { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string HostName { get; set; }

        [Parameter]
        public string LogPath { get; set; }

        /// <summary>The log's file is rotated before it would pass this many bytes; 0: never by size.</summary>
        [Parameter]
        [ValidateRange(0, long.MaxValue)]
        public long LogMaxSize { get; set; } = 100L * 1024 * 1024;

        /// <summary>The log's file is rotated once its first line is this old; zero: never by age.</summary>
        [Parameter]
        public TimeSpan LogMaxAge { get; set; } = TimeSpan.FromDays(1);

        /// <summary>Rotated log files kept; older ones are deleted.</summary>
        [Parameter]
        [ValidateRange(0, 100000)]
        public int LogMaxFiles { get; set; } = 30;

        /// <summary>Rotated log files older than this are deleted; zero: kept whatever their age.</summary>
        [Parameter]
        public TimeSpan LogRetention { get; set; } = TimeSpan.FromDays(14);

        /// <summary>Serve Prometheus metrics on this ip:port (GET /metrics); port 0 picks a free one (see MetricsEndPoint).</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string MetricsListen { get; set; }

        IPEndPoint _metricsAt;

        [Parameter]
        public SwitchParameter Once { get; set; }

        [Parameter]
        public SwitchParameter Wait { get; set; }

        /// <summary>How long a stop under -Wait (Ctrl+C, SIGTERM, Stop-SmtpFwd through the control
        /// channel) lets deliveries in flight finish before they are cancelled and given back.</summary>
        [Parameter]
        [ValidateRange(0, 3600)]
        public double StopTimeoutSeconds { get; set; } = 30;

        protected override void EndProcessing()
        {
            if (Once && Wait)
                ThrowTerminatingError(ErrorMapping.BadForwarderOption(new ArgumentException("-Once and -Wait cannot be used together: -Once already waits until the spool is drained.", "Once"), "Once"));
            if (Once && MetricsListen != null)
                ThrowTerminatingError(ErrorMapping.BadForwarderOption(new ArgumentException("-MetricsListen serves a running forwarder; -Once returns when the spool is drained.", "MetricsListen"), "MetricsListen"));
            if (MetricsListen != null && !MetricsEndpoint.TryParseListen(MetricsListen, out _metricsAt, out var badMetrics))
                ThrowTerminatingError(ErrorMapping.BadMetricsListen(MetricsListen, badMetrics));
            // A bare number binds to a TimeSpan as ticks (10 is a microsecond): refuse what cannot be meant.
            RequireSeconds("PollInterval", PollInterval, "'00:00:10' or (New-TimeSpan -Seconds 10)");
            RequireSeconds("MaxQueueLifetime", MaxQueueLifetime, "'5.00:00:00' or (New-TimeSpan -Days 5)");
            foreach (var interval in RetryInterval ?? new TimeSpan[0])
                RequireSeconds("RetryInterval", interval, "'00:05:00' or (New-TimeSpan -Minutes 5)");

            var spool = RequireSpoolFolder(ResolvePath(SpoolPath));
            RetrySchedule retry = null;
            try { retry = new RetrySchedule(RetryInterval, MaxQueueLifetime); }
            catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadForwarderOption(ex, RetryInterval)); }

            var options = new ForwarderOptions
            {
                SpoolPath = spool,
                Transport = CreateTransport(),
                MaxConcurrency = MaxConnections,
                PollInterval = PollInterval,
                Retry = retry,
                NoBounce = NoBounce,
                HostName = HostName,
            };

            options.LogPath = LogPath == null ? null : ResolvePath(LogPath);
            try { options.LogRotation = LogRotationParameters.From(LogMaxSize, LogMaxAge, LogMaxFiles, LogRetention); }
            catch (ArgumentException ex) { options.Transport.Dispose(); ThrowTerminatingError(ErrorMapping.BadForwarderOption(ex, ex.ParamName)); }
            var queue = new EventQueue();
            if (Once) RunOnce(options, queue);
            else StartDaemon(options, queue);
        }

        void RunOnce(ForwarderOptions options, EventQueue queue)
        {
            var progress = new LatestProgress();
            // A scheduled task or supervisor that sends SIGTERM (or SIGINT) cancels the run as
            // Ctrl+C does: deliveries in progress go back to the spool unchanged, nothing is cut.
            using (var signals = new ShutdownSignals(TimeSpan.FromSeconds(StopTimeoutSeconds + 10)))
            using (var cancel = CancellationTokenSource.CreateLinkedTokenSource(StopToken))
            {
                // The events of a run are only ever shown as Verbose: without it, none is made.
                var events = VerboseShown() ? queue : null;
                var task = Task.Run(() => Forwarder.RunOnceAsync(options, progress, events, cancel.Token));
                var record = new ProgressRecord(1, "Forwarding " + options.SpoolPath, "Looking for mail that is due");
                WaitDraining(task, new WaitHandle[] { queue.Posted, progress.Posted }, () =>
                {
                    Drain(queue);
                    if (progress.TryTake(out var p))
                    {
                        record.StatusDescription = p.Done + " of " + p.Total + " message(s) tried";
                        record.CurrentOperation = p.LastId;
                        record.PercentComplete = p.Total == 0 ? 0 : (int)Math.Min(100, p.Done * 100 / p.Total);
                        WriteProgress(record);
                    }
                }, signals, _ => cancel.Cancel());
                record.RecordType = ProgressRecordType.Completed;
                WriteProgress(record);
                ForwardSummary summary = null;
                try
                {
                    summary = task.GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) when (cancel.IsCancellationRequested) { return; }
                catch (SpoolException ex) { ThrowTerminatingError(ErrorMapping.FromSpoolListing(ex, options.SpoolPath)); }
                catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadForwarderOption(ex, null)); }
                catch (IOException ex) { ThrowTerminatingError(ErrorMapping.LogUnusable(ex, options.LogPath)); }
                catch (UnauthorizedAccessException ex) { ThrowTerminatingError(ErrorMapping.AccessDenied(ex, options.SpoolPath)); }
                WriteObject(summary);
            }
        }

        void StartDaemon(ForwarderOptions options, EventQueue queue)
        {
            Forwarder forwarder = null;
            try
            {
                forwarder = Forwarder.Start(options, Wait ? queue : null);
            }
            catch (SpoolException ex) { options.Transport.Dispose(); ThrowTerminatingError(ErrorMapping.FromSpoolListing(ex, options.SpoolPath)); }
            catch (ArgumentException ex) { options.Transport.Dispose(); ThrowTerminatingError(ErrorMapping.BadForwarderOption(ex, null)); }
            catch (UnauthorizedAccessException ex) { options.Transport.Dispose(); ThrowTerminatingError(ErrorMapping.AccessDenied(ex, options.SpoolPath)); }
            catch (IOException ex) { options.Transport.Dispose(); ThrowTerminatingError(ErrorMapping.LogUnusable(ex, options.LogPath)); }
            if (_metricsAt != null)
            {
                try { ForwarderMetrics.Serve(forwarder, _metricsAt); }
                catch (MetricsListenException ex)
                {
                    forwarder.StopAsync(TimeSpan.Zero).GetAwaiter().GetResult();
                    ThrowTerminatingError(ErrorMapping.From(ex));
                }
            }
            ForwarderRegistry.Add(forwarder);
            WriteObject(forwarder);
            if (!Wait) return;

            var bound = TimeSpan.FromSeconds(StopTimeoutSeconds);
            ServeUntilStopped(forwarder.Completion, queue, () => forwarder.StopAsync(bound), bound, HostKinds, "forwarder");
        }

        /// <summary>What a -Wait shows on the console; the other events go to Verbose.</summary>
        static readonly string[] HostKinds = { "start", "forwarded", "deferred", "failed", "stop", "error" };

        void Drain(EventQueue queue)
        {
            queue.BeginDrain();
            while (queue.TryTake(out var e)) WriteVerbose(e.ToString());
        }

        IMessageTransport CreateTransport()
        {
            switch (ParameterSetName)
            {
                case SendmailSet:
                {
                    var path = ResolvePath(SendmailPath);
                    if (!File.Exists(path)) ThrowTerminatingError(ErrorMapping.MissingSendmail(path));
                    return new SendmailTransport(new SendmailTransportOptions { ProgramPath = path });
                }
                case PickupSet:
                {
                    // Checked now: the transport makes the folder at the first delivery, and a file
                    // there would only show as deferred mail.
                    var pickup = ResolvePath(PickupDirectory);
                    if (File.Exists(pickup)) ThrowTerminatingError(ErrorMapping.PickupIsFile(pickup));
                    return new PickupDirectoryTransport(pickup);
                }
                default:
                {
                    if (!Engine.Forwarding.SmartHost.TryParse(SmartHost, out var host, out var port, out var why))
                        ThrowTerminatingError(ErrorMapping.BadSmartHost(SmartHost, why));
                    var options = new SmtpTransportOptions
                    {
                        Host = host,
                        Port = port,
                        TlsMode = TlsMode,
                        Credential = Credential?.GetNetworkCredential(),
                        AllowPlainTextAuthentication = AllowPlainTextAuthentication,
                        MaxConnections = MaxConnections,
                        LocalDomain = HostName,
                    };
                    if (SkipCertificateCheck) options.ServerCertificateValidationCallback = (s, c, ch, e) => true;
                    try { return new SmtpTransport(options); }
                    catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadForwarderOption(ex, SmartHost)); return null; }
                }
            }
        }

        void RequireSeconds(string parameter, TimeSpan value, string example)
        {
            if (value >= TimeSpan.FromSeconds(1)) return;
            ThrowTerminatingError(ErrorMapping.BadForwarderOption(new ArgumentException(
                "-" + parameter + " must be at least one second. A bare number is read as ticks: write " + example + ".", parameter), value));
        }

        /// <summary>Keeps only the latest progress report, and wakes the pipeline thread for it
        /// at most ten times a second: the console needs no more, and a drain of thousands of
        /// messages a second would otherwise pay a thread switch for each.</summary>
        sealed class LatestProgress : IProgress<ForwardProgress>
        {
            const int IntervalMs = 100;
            ForwardProgress _latest;
            int _lastPosted = Environment.TickCount - IntervalMs;

            public AutoResetEvent Posted { get; } = new AutoResetEvent(false);

            public void Report(ForwardProgress value)
            {
                Interlocked.Exchange(ref _latest, value);
                var now = Environment.TickCount;
                var last = Volatile.Read(ref _lastPosted);
                if (unchecked(now - last) >= IntervalMs && Interlocked.CompareExchange(ref _lastPosted, now, last) == last)
                    Posted.Set();
            }

            public bool TryTake(out ForwardProgress value)
            {
                value = Interlocked.Exchange(ref _latest, null);
                return value != null;
            }
        }
    }
}
