using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// Wakes a waiting forwarder: when a message lands in <c>ready/</c> (a file-system watch), or
    /// when told to (a stop). Signals that come while nobody waits are kept and answered by one wake.
    /// </summary>
    internal sealed class SpoolWakeup : IDisposable
    {
        // Never disposed: a stop may signal after the forwarder has shut down.
        readonly SemaphoreSlim _wake = new SemaphoreSlim(0, int.MaxValue);
        FileSystemWatcher _watcher;

        /// <summary>Watches <c>ready/</c> of <paramref name="root"/>.</summary>
        /// <exception cref="IOException">The directory cannot be watched (inotify limits, say).</exception>
        /// <exception cref="ArgumentException">The directory does not exist.</exception>
        /// <exception cref="PlatformNotSupportedException">No file-system watch here.</exception>
        public void Watch(string root)
        {
            _watcher = new FileSystemWatcher(Path.Combine(root, SpoolLayout.Ready), "*" + SpoolLayout.MessageExtension)
            {
                NotifyFilter = NotifyFilters.FileName,
            };
            _watcher.Created += (s, e) => _wake.Release();
            _watcher.Renamed += (s, e) => _wake.Release();
            _watcher.EnableRaisingEvents = true;
        }

        public void Signal() => _wake.Release();

        /// <summary>Sleeps until a signal, <paramref name="wait"/>, or <paramref name="stop"/>; never throws for those.</summary>
        public async Task WaitAsync(TimeSpan wait, CancellationToken stop)
        {
            try { await _wake.WaitAsync(wait, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
            while (_wake.CurrentCount > 0) _wake.Wait(0);   // one scan answers every signal so far
        }

        public void Dispose() => _watcher?.Dispose();
    }
}
