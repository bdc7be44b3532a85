using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Rules;

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
            try
            {
                return task.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                return default(T);
            }
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
        /// Resolves the path of a rules file that must exist. A path outside the file system, or a
        /// file that is not there, is a terminating <c>RuleFileNotFound</c> error: without rules
        /// nothing can be checked.
        /// </summary>
        protected string ResolveExistingFile(string path)
        {
            if (!TryGetFileSystemPath(path, out var resolved))
                ThrowTerminatingError(ErrorMapping.RulesPathNotInFileSystem(path));
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
