using System;
using System.IO;
using System.Threading;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A rules file that follows its edits. <see cref="Current"/> checks the file's time stamp
    /// and length at most once per <see cref="CheckInterval"/>; a changed file is compiled again
    /// and replaces the rules atomically. A broken edit (or a deleted, unreadable file) keeps the
    /// last good rules in force and is reported once through <see cref="ReloadFailed"/>.
    /// </summary>
    /// <remarks>Polling on access rather than a file-system watcher: it behaves the same on every
    /// platform and file system (network shares included) and costs one stat per interval.</remarks>
    public sealed class RulesFile
    {
        readonly object _gate = new object();
        readonly RuleParseOptions _options;
        RuleSet _current;
        long _nextCheckTicks;
        (DateTime, long)? _failedStamp;

        RulesFile(string path, RuleSet initial, RuleParseOptions options, TimeSpan interval)
        {
            Path = path;
            _current = initial;
            _options = options;
            CheckInterval = interval;
            _nextCheckTicks = DateTime.UtcNow.Ticks + interval.Ticks;
        }

        public string Path { get; }
        public TimeSpan CheckInterval { get; }
        /// <summary>The error of the last failed reload while it is still the file's state; null once a reload succeeds.</summary>
        public RuleFileException LastError { get; private set; }

        /// <summary>Raised (on the thread that noticed the change) after new rules took effect.</summary>
        public event EventHandler<RuleSet> Reloaded;
        /// <summary>Raised once per broken state of the file; the previous rules stay in force.</summary>
        public event EventHandler<RuleFileException> ReloadFailed;

        /// <summary>Loads the file.</summary>
        /// <exception cref="RuleFileException">The file cannot be read or has errors.</exception>
        public static RulesFile Open(string path, RuleParseOptions options = null, TimeSpan? checkInterval = null)
        {
            var full = System.IO.Path.GetFullPath(path ?? throw new ArgumentNullException(nameof(path)));
            return new RulesFile(full, RuleSet.Load(full, options), options, checkInterval ?? TimeSpan.FromSeconds(1));
        }

        /// <summary>The rules in force, reloaded first if the file changed.</summary>
        public RuleSet Current
        {
            get
            {
                long now = DateTime.UtcNow.Ticks;
                if (now >= Interlocked.Read(ref _nextCheckTicks)) CheckNow();
                return Volatile.Read(ref _current);
            }
        }

        /// <summary>Checks the file now, whatever the interval. True when new rules took effect.</summary>
        public bool CheckNow()
        {
            RuleSet loaded = null;
            RuleFileException failed = null;
            lock (_gate)
            {
                Interlocked.Exchange(ref _nextCheckTicks, DateTime.UtcNow.Ticks + CheckInterval.Ticks);
                var stamp = Stamp();
                var cur = _current;
                if (stamp != null && stamp.Value.Item1 == cur.FileTimeUtc && stamp.Value.Item2 == cur.FileLength)
                    return false;
                if (stamp != null && _failedStamp != null && stamp.Value == _failedStamp.Value)
                    return false;   // same broken state: already reported
                if (stamp == null && _failedStamp != null && _failedStamp.Value.Item2 < 0)
                    return false;   // still missing: already reported
                try
                {
                    loaded = RuleSet.Load(Path, _options);
                    Volatile.Write(ref _current, loaded);
                    _failedStamp = null;
                    LastError = null;
                }
                catch (RuleFileException ex)
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
