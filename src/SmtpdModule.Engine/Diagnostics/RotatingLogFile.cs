using System;
using System.Globalization;
using System.IO;
using System.Text;
using System.Threading;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// A file that whole lines are appended to, renamed aside (<see cref="LogFileSet"/>) when it
    /// is too big or too old, with old rotated files deleted (<see cref="LogRotationOptions"/>).
    /// A line is written with one call under the same lock that rotates, so no line is split
    /// across two files or lost in the switch. Readers that hold the old file open keep reading it:
    /// it is renamed, never truncated. Nothing here throws once the file is open: a failed write
    /// is counted (<see cref="Failures"/>), a failed rotation too (<see cref="RotationFailures"/>),
    /// and the log goes on, because logging must not take the mail path down.
    /// </summary>
    public sealed class RotatingLogFile : IDisposable
    {
        /// <summary>After a rotation fails (a reader holds the file without sharing delete, on
        /// Windows), writes go on to the same file and rotation is tried again this much later.</summary>
        static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);

        readonly object _gate = new object();
        readonly LogRotationOptions _options;
        readonly Func<DateTimeOffset> _clock;
        FileStream _stream;
        long _length;
        DateTimeOffset? _firstLine;   // when the current file's first line was written; null while it is empty
        DateTimeOffset _noRotationBefore;
        long _failures, _rotations, _rotationFailures;
        bool _disposed;

        /// <param name="path">The current file; its folder is created.</param>
        /// <param name="options">Null: the defaults.</param>
        /// <param name="clock">The time rotation is measured by (UTC); null: the machine's clock. Tests move their own.</param>
        /// <exception cref="IOException">The file cannot be opened.</exception>
        /// <exception cref="UnauthorizedAccessException">The file or its folder may not be written.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
        public RotatingLogFile(string path, LogRotationOptions options = null, Func<DateTimeOffset> clock = null)
        {
            _options = options ?? new LogRotationOptions();
            _options.Validate();
            _clock = clock ?? (() => DateTimeOffset.UtcNow);
            Files = new LogFileSet(path);
            if (!string.IsNullOrEmpty(Files.Directory)) Directory.CreateDirectory(Files.Directory);
            _stream = Open(Files.Path);
            _length = _stream.Length;
            if (_length > 0) _firstLine = FirstLineTime(Files.Path) ?? _clock();
            Prune(_clock());
        }

        public LogFileSet Files { get; }
        public string Path => Files.Path;
        /// <summary>Lines that could not be written.</summary>
        public long Failures => Interlocked.Read(ref _failures);
        public long Rotations => Interlocked.Read(ref _rotations);
        /// <summary>Rotations that could not rename the file; its lines went on into the same file.</summary>
        public long RotationFailures => Interlocked.Read(ref _rotationFailures);

        /// <summary>Appends one line; <paramref name="line"/> holds its newline. Thread-safe; never throws.</summary>
        public void Append(byte[] line)
        {
            if (line == null) throw new ArgumentNullException(nameof(line));
            lock (_gate)
            {
                if (_disposed) { Interlocked.Increment(ref _failures); return; }
                var now = _clock();
                if (_stream == null) Reopen(now);
                else if (Due(line.Length, now)) Rotate(now);
                if (_stream == null) { Interlocked.Increment(ref _failures); return; }
                try
                {
                    _stream.Write(line, 0, line.Length);
                    _stream.Flush();
                    _length += line.Length;
                    if (_firstLine == null) _firstLine = now;
                }
                catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is UnauthorizedAccessException)
                {
                    Interlocked.Increment(ref _failures);
                }
            }
        }

        // An empty file is never rotated: a line longer than MaxSize gets a file of its own.
        bool Due(int next, DateTimeOffset now)
        {
            if (_length == 0 || now < _noRotationBefore) return false;
            if (_options.MaxSize > 0 && _length + next > _options.MaxSize) return true;
            return _options.MaxAge > TimeSpan.Zero && _firstLine != null && now - _firstLine.Value >= _options.MaxAge;
        }

        void Rotate(DateTimeOffset now)
        {
            Close();
            // Later than every rotated file there is, so names keep sorting by time even when two
            // rotations fall in one millisecond or the clock steps back.
            var existing = Files.RotatedFiles();
            var stamp = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);   // as the name has it
            if (existing.Count > 0 && existing[existing.Count - 1].Rotated >= stamp)
                stamp = existing[existing.Count - 1].Rotated.AddMilliseconds(1);
            try
            {
                File.Move(Files.Path, Files.RotatedPath(stamp));
                Interlocked.Increment(ref _rotations);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                Interlocked.Increment(ref _rotationFailures);
                _noRotationBefore = now + RetryAfterFailure;
            }
            Reopen(now);
            Prune(now);
        }

        void Reopen(DateTimeOffset now)
        {
            try
            {
                _stream = Open(Files.Path);
                _length = _stream.Length;
                _firstLine = _length > 0 ? (FirstLineTime(Files.Path) ?? now) : (DateTimeOffset?)null;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _stream = null;   // each line is counted as a failure until the file opens again
            }
        }

        /// <summary>Deletes the rotated files beyond the count or past the retention, oldest first.</summary>
        void Prune(DateTimeOffset now)
        {
            if (!_options.Rotates) return;
            System.Collections.Generic.IReadOnlyList<RotatedLogFile> rotated;
            try { rotated = Files.RotatedFiles(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return; }
            for (int i = 0; i < rotated.Count; i++)
            {
                bool tooMany = rotated.Count - i > _options.MaxFiles;
                bool tooOld = _options.Retention > TimeSpan.Zero && now - rotated[i].Rotated > _options.Retention;
                if (!tooMany && !tooOld) break;
                try { File.Delete(rotated[i].Path); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
        }

        static FileStream Open(string path) =>
            // Share delete: a reader's handle must not stop the rename of a rotation.
            new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1);

        /// <summary>The time of a log's first line (<c>{"time":"…"</c>), which a restarted writer
        /// ages the file by; null when it cannot be read.</summary>
        static DateTimeOffset? FirstLineTime(string path)
        {
            try
            {
                using (var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
                {
                    var buffer = new byte[64];
                    int n = s.Read(buffer, 0, buffer.Length);
                    var head = Encoding.UTF8.GetString(buffer, 0, n);
                    const string prefix = "{\"time\":\"";
                    if (!head.StartsWith(prefix, StringComparison.Ordinal)) return null;
                    int end = head.IndexOf('"', prefix.Length);
                    if (end < 0) return null;
                    return DateTimeOffset.TryParse(head.Substring(prefix.Length, end - prefix.Length), CultureInfo.InvariantCulture,
                                                   DateTimeStyles.AssumeUniversal, out var t) ? t : (DateTimeOffset?)null;
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        void Close()
        {
            try { _stream?.Dispose(); }
            catch (IOException) { }
            _stream = null;
        }

        public void Dispose()
        {
            lock (_gate)
            {
                _disposed = true;
                Close();
            }
        }
    }
}
