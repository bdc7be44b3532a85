using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Policy;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Streams the events of a proxy's or a forwarder's JSON Lines log that a <see cref="LogFilter"/>
    /// wants, one line at a time, so a log of any size is read in bounded memory. A line is parsed
    /// only when its start (<see cref="LogLineHead"/>) and its text can match; a line that is not
    /// JSON, or not an event, is reported (<see cref="LogLineError"/>) and the read goes on. The
    /// file may be growing or be rotated while it is read: it is opened sharing write and delete.
    /// </summary>
    public sealed class LogReader
    {
        /// <summary>How far an event's time may stray past its file's rotation time (events are
        /// stamped just before they are written, on the same clock) and still be looked for.</summary>
        public static readonly TimeSpan RotationSlack = TimeSpan.FromMinutes(1);

        readonly LogFilter _filter;

        public LogReader(LogFilter filter) { _filter = filter ?? LogFilter.Create(); }

        public LogFilter Filter => _filter;

        /// <summary>
        /// The files to read for <paramref name="path"/>, oldest first. A log's current file brings
        /// its rotated files before it; a rotated file is itself. Rotated files that cannot hold
        /// an event of the filter's time window (by the rotation times in their names) are left out.
        /// </summary>
        public IReadOnlyList<string> FilesOf(string path)
        {
            if (LogFileSet.TryParse(path, out _, out _)) return new[] { System.IO.Path.GetFullPath(path) };
            var set = new LogFileSet(path);
            var files = new List<string>();
            DateTimeOffset? previous = null;   // the rotation that began the file: nothing in it is much older
            foreach (var r in set.RotatedFiles())
            {
                if (InWindow(previous, r.Rotated)) files.Add(r.Path);
                previous = r.Rotated;
            }
            if (File.Exists(set.Path) && InWindow(previous, null)) files.Add(set.Path);
            return files;
        }

        bool InWindow(DateTimeOffset? begun, DateTimeOffset? rotated)
        {
            if (_filter.After != null && rotated != null && rotated.Value + RotationSlack < _filter.After.Value) return false;
            if (_filter.Before != null && begun != null && begun.Value - RotationSlack >= _filter.Before.Value) return false;
            return true;
        }

        /// <summary>The wanted events of one file, in the order written.</summary>
        /// <param name="path">A file (not a log's set: see <see cref="FilesOf"/>).</param>
        /// <param name="unreadable">Told of each line that cannot be read; the read goes on.</param>
        /// <param name="bytesRead">Told the bytes read so far, at most once per megabyte.</param>
        /// <exception cref="FileNotFoundException">The file does not exist.</exception>
        /// <exception cref="IOException">The file cannot be read.</exception>
        /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public IEnumerable<LogEvent> Read(string path, Action<LogLineError> unreadable = null, Action<long> bytesRead = null,
                                          CancellationToken cancellationToken = default)
        {
            if (path == null) throw new ArgumentNullException(nameof(path));
            // Opened before the first MoveNext would, so that a missing file fails where it is named.
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.SequentialScan);
            return ReadOpen(stream, path, unreadable, bytesRead, cancellationToken);
        }

        IEnumerable<LogEvent> ReadOpen(FileStream stream, string path, Action<LogLineError> unreadable, Action<long> bytesRead, CancellationToken cancellationToken)
        {
            using (stream)
            {
                var lines = new LogLineScanner(stream);
                long number = 0, reported = 0;
                while (lines.Next(out int start, out int length, out bool tooLong))
                {
                    number++;
                    if ((number & 1023) == 0)
                    {
                        cancellationToken.ThrowIfCancellationRequested();
                        if (bytesRead != null && lines.BytesRead != reported) bytesRead(reported = lines.BytesRead);
                    }
                    if (tooLong)
                    {
                        unreadable?.Invoke(new LogLineError(path, number, "The line is longer than " + LogLineScanner.MaxLineLength + " bytes."));
                        continue;
                    }
                    if (length == 0) continue;
                    // Most lines of a selective query end here, never decoded.
                    var buffer = lines.Buffer;
                    if (LogLineHead.TryRead(buffer, start, length, out var head) && !_filter.HeadMayMatch(head)) continue;
                    if (!_filter.TextMayMatch(buffer, start, length)) continue;
                    LogEvent e;
                    try { e = Parse(Utf8.GetString(buffer, start, length), path, number); }
                    catch (FormatException ex)
                    {
                        unreadable?.Invoke(new LogLineError(path, number, ex.Message));
                        continue;
                    }
                    if (_filter.Matches(e)) yield return e;
                }
                bytesRead?.Invoke(lines.BytesRead);
            }
        }

        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);

        /// <summary>The event one line holds.</summary>
        /// <exception cref="FormatException">The line is not JSON, not an object with a time and an event, or a decision that cannot be read.</exception>
        public static LogEvent Parse(string line, string path = null, long lineNumber = 0)
        {
            if (!(JsonReader.Parse(line) is Dictionary<string, object> data)) throw new FormatException("A log line is a JSON object.");
            var timeText = Take(data, "time") ?? throw new FormatException("The line has no time.");
            if (!DateTimeOffset.TryParse(timeText, System.Globalization.CultureInfo.InvariantCulture,
                                         System.Globalization.DateTimeStyles.AssumeUniversal, out var time))
                throw new FormatException("'" + timeText + "' is not a time.");
            var kind = Take(data, "event") ?? throw new FormatException("The line has no event.");
            if (kind == DecisionRecordReader.EventName)
            {
                var record = DecisionRecordReader.FromData(data);
                record.Time = time;
                var rest = new Dictionary<string, object>(data, StringComparer.Ordinal);
                rest.Remove("session");
                var client = Take(rest, "client");
                var message = Take(rest, "message");
                return new LogDecision(path, lineNumber, client, message, rest, record);
            }
            var session = Take(data, "session");
            var who = Take(data, "client");
            var text = Take(data, "message");
            return new LogEvent(path, lineNumber, time, kind, session, who, text, data);
        }

        /// <summary>Removes a string member and returns it.</summary>
        static string Take(Dictionary<string, object> data, string key)
        {
            if (!data.TryGetValue(key, out var v)) return null;
            data.Remove(key);
            if (v == null) return null;
            return v as string ?? throw new FormatException("'" + key + "' is a string.");
        }
    }

    /// <summary>A line of a log that could not be read: where, and why.</summary>
    public sealed class LogLineError
    {
        public LogLineError(string path, long lineNumber, string reason)
        {
            Path = path;
            LineNumber = lineNumber;
            Reason = reason;
        }

        public string Path { get; }
        public long LineNumber { get; }
        public string Reason { get; }
        /// <summary><c>file:line</c>, the error's target.</summary>
        public string Where => Path + ":" + LineNumber;
        public override string ToString() => Where + ": " + Reason;
    }
}
