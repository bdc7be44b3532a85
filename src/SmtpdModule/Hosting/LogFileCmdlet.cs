using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using SmtpdModule.Engine.Evidence;
using System.IO;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    /// <summary>A cmdlet that reads the proxy's or the forwarder's logs by path (Get-SmtpdLog,
    /// Export-SmtpdReport): a wildcard names its matches, a plain path its file and rotated files.</summary>
    public abstract class LogFileCmdlet : SmtpdCmdlet
    {
        readonly HashSet<string> _named = new HashSet<string>(StringComparer.Ordinal);

        /// <summary>The files of the logs <paramref name="given"/> names (<see cref="ResolveLog"/>), each
        /// log's rotated files first as <paramref name="reader"/> orders them, and each file once per
        /// invocation however often it is named, in this call or an earlier one.</summary>
        protected List<string> NewLogFiles(IEnumerable<string> given, bool literal, LogReader reader)
        {
            var files = new List<string>();
            foreach (var g in given)
                foreach (var file in ResolveLog(g, literal))
                    foreach (var f in reader.FilesOf(file))
                        if (_named.Add(f)) files.Add(f);
            return files;
        }

        /// <summary>The log files a path names: a wildcard its matches (none is no error), a plain
        /// path itself when it or a rotated file of it exists; otherwise a LogFileNotFound error.</summary>
        IEnumerable<string> ResolveLog(string given, bool literal)
        {
            if (!literal && WildcardPattern.ContainsWildcardCharacters(given))
            {
                Collection<string> matches;
                try { matches = SessionState.Path.GetResolvedProviderPathFromPSPath(given, out var provider); }
                catch (Exception ex) when (ex is ItemNotFoundException || ex is System.Management.Automation.DriveNotFoundException) { yield break; }
                foreach (var m in matches)
                    if (File.Exists(m)) yield return m;
                yield break;
            }
            if (!TryGetFileSystemPath(given, out var path)) { WriteError(ErrorMapping.NotInFileSystem(given)); yield break; }
            if (File.Exists(path) || HasRotatedFiles(path)) yield return path;
            else WriteError(ErrorMapping.LogNotFound(path));
        }

        // A time filter may leave out every file; the log is still there.
        static bool HasRotatedFiles(string path)
        {
            try { return new Engine.Diagnostics.LogFileSet(path).RotatedFiles().Count > 0; }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException) { return false; }
        }

        /// <summary>Reads <paramref name="files"/> in turn through <paramref name="reader"/>, each event to
        /// <paramref name="each"/>, with progress by bytes; a file that cannot be read is an error and
        /// the next is read. Returns false when Ctrl+C stopped it.</summary>
        protected bool ReadLogs(LogReader reader, IReadOnlyList<string> files, Action<LogEvent> each, Action<LogLineError> unreadable)
        {
            long total = 0, done = 0;
            foreach (var f in files)
                try { total += new FileInfo(f).Length; } catch (IOException) { }
            var progress = new ProgressRecord(ProgressId, "Reading smtpd logs", "0 MB of " + Mb(total) + " MB");
            var clock = Stopwatch.StartNew();
            bool shown = false, stopped = false;
            var lastShown = TimeSpan.Zero;
            try
            {
                foreach (var file in files)
                {
                    Action<long> bytes = n =>
                    {
                        // Throttled: a 1 GB log reports a thousand times; the console needs a few a second.
                        if (clock.Elapsed - lastShown < TimeSpan.FromMilliseconds(250)) return;
                        lastShown = clock.Elapsed;
                        progress.CurrentOperation = file;
                        progress.StatusDescription = Mb(done + n) + " MB of " + Mb(total) + " MB";
                        progress.PercentComplete = total == 0 ? 0 : (int)Math.Min(100, (done + n) * 100 / total);
                        WriteProgress(progress);
                        shown = true;
                    };
                    try
                    {
                        foreach (var e in reader.Read(file, unreadable, bytes, StopToken))
                            each(e);
                    }
                    catch (FileNotFoundException) { WriteError(ErrorMapping.LogNotFound(file)); }
                    catch (DirectoryNotFoundException) { WriteError(ErrorMapping.LogNotFound(file)); }
                    catch (OperationCanceledException) { stopped = true; return false; }
                    catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { WriteError(ErrorMapping.LogUnreadable(ex, file)); }
                    try { done += new FileInfo(file).Length; } catch (IOException) { }
                }
                return true;
            }
            finally
            {
                if (shown && !stopped)   // after Ctrl+C the pipeline takes no more writes
                {
                    progress.RecordType = ProgressRecordType.Completed;
                    WriteProgress(progress);
                }
            }
        }

        const int ProgressId = 1;

        static string Mb(long bytes) => (bytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
