using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Verification;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// The base of every SmtpdModule cmdlet: bridges the async engine to the synchronous pipeline.
    /// Engine work runs on the thread pool; the pipeline thread waits for it, so every
    /// <c>Write*</c> call stays on the pipeline thread. Ctrl+C cancels the engine's token.
    /// </summary>
    public abstract class SmtpdCmdlet : PSCmdlet, IDisposable
    {
        readonly CancellationTokenSource _stop = new CancellationTokenSource();
        bool _disposed;

        /// <summary>Cancelled when the user presses Ctrl+C or the pipeline is stopped.</summary>
        protected CancellationToken StopToken => _stop.Token;

        protected override void StopProcessing()
        {
            // Called on another thread while Run is waiting: cancelling lets the engine return.
            try { _stop.Cancel(); }
            catch (ObjectDisposedException) { }
        }

        /// <summary>
        /// Runs engine work and waits for it on the pipeline thread. The engine's own exception is
        /// rethrown as it is (not wrapped in an AggregateException). Cancellation caused by
        /// stopping the pipeline is not an error: the result is then <c>default(T)</c>, and the
        /// caller writes nothing more.
        /// </summary>
        protected T Run<T>(Func<CancellationToken, Task<T>> work)
        {
            if (work == null) throw new ArgumentNullException(nameof(work));
            var token = _stop.Token;
            // Task.Run: the engine starts on the pool, never on whatever context the host has.
            var task = Task.Run(() => work(token), token);
            WaitDraining(task, new WaitHandle[0], null, null, null);
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return default(T);
            }
        }

        /// <summary>Runs engine work that returns nothing, as <see cref="Run{T}"/> does.</summary>
        protected void Run(Func<CancellationToken, Task> work)
        {
            if (work == null) throw new ArgumentNullException(nameof(work));
            Run(async token => { await work(token).ConfigureAwait(false); return true; });
        }

        /// <summary>
        /// The one bridge between engine work and the pipeline thread: blocks here until
        /// <paramref name="task"/> has ended, calling <paramref name="drain"/> (on this thread, so
        /// every Write* stays here) each time one of <paramref name="posted"/> is set and once at
        /// the end. The first Ctrl+C (StopProcessing) or shutdown signal calls
        /// <paramref name="stop"/> once with what asked ("Ctrl+C", "SIGTERM", …); the wait then
        /// goes on, still draining, until the task has ended: a stop is the engine's to finish.
        /// </summary>
        /// <param name="signals">SIGTERM, SIGINT, SIGQUIT; null when only Ctrl+C stops.</param>
        /// <param name="stop">Null when the engine's token (cancelled by StopProcessing) is the only stop.</param>
        internal void WaitDraining(Task task, WaitHandle[] posted, Action drain, ShutdownSignals signals, Action<string> stop)
        {
            var waits = new List<WaitHandle> { ((IAsyncResult)task).AsyncWaitHandle };
            waits.AddRange(posted);
            var stopAt = waits.Count;
            if (stop != null)
            {
                waits.Add(StopToken.WaitHandle);
                if (signals != null) waits.Add(signals.Requested);
            }
            var handles = waits.ToArray();
            while (true)
            {
                int which = WaitHandle.WaitAny(handles);
                drain?.Invoke();
                if (which == 0) return;
                if (which >= stopAt)
                {
                    // Both stay signalled: from now on wait only for the end and what is posted.
                    handles = waits.GetRange(0, stopAt).ToArray();
                    stop(which == stopAt ? "Ctrl+C" : signals.SignalName);
                }
            }
        }

        /// <summary>
        /// The body of a <c>-Wait</c>: shows the events until <paramref name="completion"/> ends.
        /// Ctrl+C (StopProcessing), SIGTERM, SIGINT or SIGQUIT call <paramref name="stop"/> once,
        /// a graceful stop, not an error; the loop goes on showing events until it has finished.
        /// The events an operator follows (<paramref name="hostKinds"/>: start, each message, the
        /// stop, errors) go to the host as Write-Host would put them, the rest to Verbose; with
        /// -Verbose every event goes to Verbose, so the console shows each one once.
        /// </summary>
        internal void ServeUntilStopped(Task completion, EventQueue events, Func<Task> stop,
                                        TimeSpan stopBound, ICollection<string> hostKinds, string what)
        {
            var verbose = VerboseShown();
            if (verbose) hostKinds = new string[0];
            var kinds = hostKinds;
            events.ShowOnly(e => verbose || e.Kind == "warning" || kinds.Contains(e.Kind));
            // Held exit (no PosixSignalRegistration): the stop's own bound, the control channel's
            // 5 s to answer, and a margin.
            using (var signals = new ShutdownSignals(stopBound + TimeSpan.FromSeconds(10)))
            {
                Task stopping = null;
                WaitDraining(completion, new WaitHandle[] { events.Posted }, () => Show(events, hostKinds, verbose), signals, why =>
                {
                    WriteHostLine(DateTimeOffset.Now.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)
                        + " - " + why + ": stopping the " + what + " (in flight may finish within " + stopBound.TotalSeconds + " s)");
                    stopping = stop();
                });
                try { stopping?.GetAwaiter().GetResult(); }
                catch (OperationCanceledException) { }
                Show(events, hostKinds, verbose);
            }
        }

        /// <summary>Whether Verbose output is shown: -Verbose, or $VerbosePreference.</summary>
        protected bool VerboseShown()
        {
            if (MyInvocation.BoundParameters.TryGetValue("Verbose", out var v))
                return v is SwitchParameter sw ? sw.IsPresent : v is bool b && b;
            var preference = GetVariableValue("VerbosePreference");
            return preference is ActionPreference p && (p == ActionPreference.Continue || p == ActionPreference.Inquire);
        }

        /// <param name="verbose">Verbose is shown: otherwise the other events are not even formatted, which
        /// under load is most of what this thread would do.</param>
        void Show(EventQueue events, ICollection<string> hostKinds, bool verbose)
        {
            events.BeginDrain();
            while (events.TryTake(out var e))
            {
                // Rules warnings (at start and at each reload) are warnings on any console.
                if (e.Kind == "warning" && !StopToken.IsCancellationRequested)
                {
                    try { WriteWarning(e.Message); }
                    catch (PipelineStoppedException) { }
                }
                else if (hostKinds.Contains(e.Kind)) WriteHostLine(e.ToString());
                else if (verbose && !StopToken.IsCancellationRequested)
                {
                    try { WriteVerbose(e.ToString()); }
                    catch (PipelineStoppedException) { }
                }
            }
        }

        /// <summary>A line for the console, as Write-Host writes it (information stream, tag PSHOST).</summary>
        /// <remarks>Once the pipeline is stopping (Ctrl+C) it may not be written to: the host's UI still may.</remarks>
        protected void WriteHostLine(string text)
        {
            if (!StopToken.IsCancellationRequested)
            {
                try
                {
                    WriteInformation(new HostInformationMessage { Message = text }, new[] { "PSHOST" });
                    return;
                }
                catch (PipelineStoppedException) { }
            }
            Host?.UI?.WriteLine(text);
        }

        /// <summary>
        /// Resolves a user's path (relative to the current location, drive-qualified, <c>~</c>) to a
        /// file-system path without requiring the item to exist and without expanding wildcards.
        /// </summary>
        /// <param name="path">The path as the user gave it.</param>
        /// <param name="resolved">The file-system path; null when the path is not in the file system.</param>
        /// <returns>False when the path names a drive that does not exist or a provider other than the file system.</returns>
        protected bool TryGetFileSystemPath(string path, out string resolved)
        {
            resolved = null;
            if (string.IsNullOrEmpty(path)) return false;
            try
            {
                var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path, out ProviderInfo provider, out _);
                if (provider == null || !string.Equals(provider.Name, "FileSystem", StringComparison.OrdinalIgnoreCase))
                    return false;
                resolved = full;
                return true;
            }
            catch (Exception ex) when (ex is DriveNotFoundException || ex is ProviderNotFoundException
                                       || ex is ItemNotFoundException || ex is NotSupportedException
                                       || ex is ArgumentException || ex is PSArgumentException)
            {
                return false;
            }
        }

        /// <summary>
        /// A user's path resolved as <see cref="TryGetFileSystemPath"/> does; a path outside the
        /// file system ends the command with <paramref name="notInFileSystem"/>'s record, by
        /// default PathNotInFileSystem.
        /// </summary>
        protected string ResolvePath(string path, Func<string, ErrorRecord> notInFileSystem = null)
        {
            if (!TryGetFileSystemPath(path, out var resolved))
                ThrowTerminatingError((notInFileSystem ?? ErrorMapping.NotInFileSystem)(path));
            return resolved;
        }

        /// <summary>
        /// Resolves the path of a rules file that must exist. A path outside the file system, or a
        /// file that is not there, is a terminating <c>RuleFileNotFound</c> error: without rules
        /// nothing can be checked.
        /// </summary>
        protected string ResolveExistingFile(string path)
        {
            var resolved = ResolvePath(path, ErrorMapping.RulesPathNotInFileSystem);
            if (!System.IO.File.Exists(resolved) && !System.IO.Directory.Exists(resolved))
                ThrowTerminatingError(ErrorMapping.RulesFileNotFound(resolved));
            if (System.IO.Directory.Exists(resolved))
                ThrowTerminatingError(ErrorMapping.RulesPathIsDirectory(resolved));
            return resolved;
        }

        /// <summary>
        /// A -SpoolPath resolved, refused with SpoolPathIsFile when it names a file (the spool would
        /// otherwise fail with "already exists" when it makes its folders).
        /// </summary>
        protected string RequireSpoolFolder(string resolved)
        {
            if (System.IO.File.Exists(resolved)) ThrowTerminatingError(ErrorMapping.SpoolIsFile(resolved));
            return resolved;
        }

        /// <summary>
        /// The recipient verification of -RecipientListPath (and the other sources' parameters): the
        /// proxy and Test-SmtpdRule build it the same way. A list that cannot be used, or LDAP or
        /// callahead parameters that cannot work, stop the command.
        /// </summary>
        /// <remarks>The list is asked first (it costs nothing), then the directory (one search, answers
        /// kept a day if known, 15 minutes if not), then the callahead (a whole SMTP dialogue, answers
        /// kept for days and hours).</remarks>
        internal RecipientVerificationOptions RecipientVerificationFrom(string listPath, LdapParameters ldap, string callaheadHost, CallaheadTlsMode callaheadTls,
                                                                        string heloName, VerificationFailMode failMode)
        {
            var options = new RecipientVerificationOptions { FailMode = failMode };
            if (listPath != null)
            {
                try { options.Sources.Add(new VerificationSource(RecipientListSource.Open(ResolvePath(listPath)))); }
                catch (RecipientListException ex) { ThrowTerminatingError(ErrorMapping.From(ex)); }
            }
            if (ldap.Server != null) options.Sources.Add(LdapSourceFrom(ldap));
            else if (ldap.FirstGiven != null) ThrowTerminatingError(ErrorMapping.NoLdapServer(ldap.FirstGiven));
            if (callaheadHost != null)
            {
                if (!Engine.Forwarding.SmartHost.TryParse(callaheadHost, out var host, out var port, out var why))
                    ThrowTerminatingError(ErrorMapping.BadCallaheadHost(callaheadHost, why));
                var callahead = new CallaheadSource(new CallaheadOptions { Host = host, Port = port, TlsMode = callaheadTls, HeloName = heloName });
                options.Sources.Add(new VerificationSource(callahead, callahead.Options.PositiveTtl, callahead.Options.NegativeTtl));
            }
            return options;
        }

        /// <summary>The directory source of the -Ldap* parameters. A method of its own, not inlined: the
        /// LDAP assembly loads only when a command asks for a directory.</summary>
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        VerificationSource LdapSourceFrom(LdapParameters ldap)
        {
            var options = new LdapSourceOptions();
            if (!LdapServerAddress.TryApply(ldap.Server, ldap.StartTls, options, out var why))
                ThrowTerminatingError(ErrorMapping.BadLdapServer(ldap.Server, why));
            if (string.IsNullOrWhiteSpace(ldap.SearchBase))
                ThrowTerminatingError(ErrorMapping.NoLdapSearchBase(ldap.Server));
            var filter = ldap.Filter ?? LdapFilter.ActiveDirectory;
            if (!LdapFilter.TryValidateTemplate(filter, out why))
                ThrowTerminatingError(ErrorMapping.BadLdapFilter(filter, why));
            options.SearchBase = ldap.SearchBase;
            options.Filter = filter;
            // Not GetNetworkCredential(): it splits "DOMAIN\user" at the backslash, and a DN may hold
            // one ("cn=Smith\, John,…"). The name goes to the directory as it was typed.
            if (ldap.Credential != null && ldap.Credential != PSCredential.Empty)
                options.Credential = new System.Net.NetworkCredential(ldap.Credential.UserName, ldap.Credential.Password);
            var source = new LdapSource(options);
            return new VerificationSource(source, source.Options.PositiveTtl, source.Options.NegativeTtl);
        }

        /// <summary>
        /// Resolver options from a -DnsServer value (<c>ip[:port]</c> each); none given means the
        /// system's resolvers. A bad value ends the command with InvalidDnsServer.
        /// </summary>
        protected DnsResolverOptions DnsOptionsFrom(string[] servers)
        {
            var options = new DnsResolverOptions();
            if (servers == null || servers.Length == 0) return options;
            var endPoints = new List<System.Net.IPEndPoint>(servers.Length);
            foreach (var text in servers)
            {
                if (!DnsServerEndpoint.TryParse(text, out var endPoint, out var error))
                    ThrowTerminatingError(ErrorMapping.BadDnsServer(text, error));
                endPoints.Add(endPoint);
            }
            options.Servers = endPoints;
            return options;
        }

        protected static IEnumerable<RuleDiagnostic> InFileOrder(IEnumerable<RuleDiagnostic> diagnostics) =>
            diagnostics.OrderBy(d => d.Line).ThenBy(d => d.Column);   // stable: one place keeps its order

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            Dispose(true);
            _stop.Dispose();
            GC.SuppressFinalize(this);
        }

        /// <summary>PowerShell disposes a command when its pipeline ends: release engine objects here.</summary>
        protected virtual void Dispose(bool disposing)
        {
        }
    }
}
