using System;
using System.IO;
using System.Threading;

namespace SmtpdModule.Engine.Files
{
    /// <summary>
    /// A file the engine compiles once and follows as it is edited (the rules, the recipient list).
    /// <see cref="Current"/> looks at the file's time stamp and length at most once per
    /// <see cref="CheckInterval"/>; a changed file is loaded again and replaces the compiled form
    /// atomically. A broken edit (or a deleted, unreadable file) keeps the last good form in force and
    /// is reported once through <see cref="ReloadFailed"/>; undoing the edit clears the error.
    /// </summary>
    /// <remarks>Polling on access rather than a file-system watcher: it behaves the same on every
    /// platform and file system (network shares included) and costs one stat per interval. One thread
    /// claims each check; the others answer from the form in force meanwhile, never waiting.</remarks>
    /// <typeparam name="T">The compiled form.</typeparam>
    /// <typeparam name="TError">What <c>load</c> throws for a file that cannot be used.</typeparam>
    public sealed class WatchedFile<T, TError> where T : class where TError : Exception
    {
        readonly object _gate = new object();
        readonly Func<string, T> _load;
        readonly Func<T, (DateTime?, long)> _stampOf;
        readonly Func<DateTimeOffset> _now;
        T _current;
        long _nextCheckTicks;
        (DateTime, long)? _failedStamp;

        /// <param name="path">The file; made absolute.</param>
        /// <param name="load">Reads and compiles the file; throws <typeparamref name="TError"/> when it cannot.</param>
        /// <param name="stampOf">The time stamp and length the compiled form was read at (taken before the read).</param>
        /// <param name="checkInterval">How often at most the file is looked at (zero: at every access).</param>
        /// <param name="now">The clock; null for the system's.</param>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="checkInterval"/> is negative.</exception>
        /// <remarks>The first load happens here and its <typeparamref name="TError"/> reaches the caller.</remarks>
        public WatchedFile(string path, Func<string, T> load, Func<T, (DateTime?, long)> stampOf, TimeSpan checkInterval, Func<DateTimeOffset> now = null)
        {
            if (checkInterval < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(checkInterval), checkInterval, "The check interval cannot be negative.");
            Path = System.IO.Path.GetFullPath(path ?? throw new ArgumentNullException(nameof(path)));
            _load = load ?? throw new ArgumentNullException(nameof(load));
            _stampOf = stampOf ?? throw new ArgumentNullException(nameof(stampOf));
            _now = now ?? (() => DateTimeOffset.UtcNow);
            CheckInterval = checkInterval;
            _current = load(Path);
            _nextCheckTicks = _now().UtcTicks + checkInterval.Ticks;
        }

        public string Path { get; }
        public TimeSpan CheckInterval { get; }
        /// <summary>The error of the last failed reload while it is still the file's state; null once a reload succeeds or the edit is undone.</summary>
        public TError LastError { get; private set; }

        /// <summary>Raised (on the thread that noticed the change) after a new form took effect.</summary>
        public event EventHandler<T> Reloaded;
        /// <summary>Raised once per broken state of the file; the previous form stays in force.</summary>
        public event EventHandler<TError> ReloadFailed;

        /// <summary>The form in force, reloaded first if the file changed and this thread claimed the check.</summary>
        public T Current
        {
            get
            {
                long now = _now().UtcTicks, due = Interlocked.Read(ref _nextCheckTicks);
                if (now >= due && Interlocked.CompareExchange(ref _nextCheckTicks, now + CheckInterval.Ticks, due) == due)
                    Reload();
                return Volatile.Read(ref _current);
            }
        }

        /// <summary>Looks at the file now, whatever the interval. True when a new form took effect.</summary>
        public bool CheckNow()
        {
            Interlocked.Exchange(ref _nextCheckTicks, _now().UtcTicks + CheckInterval.Ticks);
            return Reload();
        }

        bool Reload()
        {
            T loaded = null;
            TError failed = null;
            lock (_gate)
            {
                var stamp = Stamp();
                var (time, length) = _stampOf(_current);
                if (stamp != null && stamp.Value.Item1 == time && stamp.Value.Item2 == length)
                {
                    // Back to the file the form in force was read from (a broken edit undone): nothing stands against it.
                    _failedStamp = null;
                    LastError = null;
                    return false;
                }
                if (stamp != null && _failedStamp != null && stamp.Value == _failedStamp.Value)
                    return false;   // same broken state: already reported
                if (stamp == null && _failedStamp != null && _failedStamp.Value.Item2 < 0)
                    return false;   // still missing: already reported
                try
                {
                    loaded = _load(Path);
                    Volatile.Write(ref _current, loaded);
                    _failedStamp = null;
                    LastError = null;
                }
                catch (TError ex)
                {
                    failed = ex;
                    _failedStamp = stamp ?? (DateTime.MinValue, -1L);
                    LastError = ex;
                }
            }
            if (loaded != null) Reloaded?.Invoke(this, loaded);
            if (failed != null) ReloadFailed?.Invoke(this, failed);
            return loaded != null;
        }

        (DateTime, long)? Stamp()
        {
            try
            {
                var info = new FileInfo(Path);
                if (!info.Exists) return null;
                return (info.LastWriteTimeUtc, info.Length);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
