using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdLog: the events of a proxy's or a forwarder's JSON Lines log (-LogPath) as objects,
    /// decisions as LogDecision, filtered as they stream (Engine/Evidence/LogReader). A log's
    /// current file brings its rotated files, oldest first.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdLog", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(LogEvent), typeof(LogDecision))]
    public sealed class GetSmtpdLogCommand : SmtpdCmdlet
    {
        const string PathSet = "Path", LiteralPathSet = "LiteralPath";
        const int ProgressId = 1;

        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PathSet)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[] Path { get; set; }

        /// <summary>Also bound by the LogPath of Get-SmtpdProxy's objects.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = LiteralPathSet)]
        [Alias("PSPath", "LogPath")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; }

        [Parameter] public DateTime After { get; set; }
        [Parameter] public DateTime Before { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string[] Client { get; set; }
        [Parameter] [SupportsWildcards] [ValidateNotNull] public string[] From { get; set; }
        [Parameter] [SupportsWildcards] [ValidateNotNull] public string[] To { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] [ValidateSet("Continue", "Reject", "TempFail", "Close", "Delay", "Accepted", "Refused", "Deferred")]
        public string[] Verdict { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public int[] Line { get; set; }
        [Parameter] [ValidateNotNullOrEmpty] public string[] Event { get; set; }

        LogReader _reader;
        readonly HashSet<string> _read = new HashSet<string>(StringComparer.Ordinal);

        protected override void BeginProcessing()
        {
            try
            {
                var filter = LogFilter.Create(
                    MyInvocation.BoundParameters.ContainsKey(nameof(After)) ? new DateTimeOffset(After) : (DateTimeOffset?)null,
                    MyInvocation.BoundParameters.ContainsKey(nameof(Before)) ? new DateTimeOffset(Before) : (DateTimeOffset?)null,
                    Client, From, To, Verdict, Line, Event);
                _reader = new LogReader(filter);
            }
            catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.BadLogFilter(ex, ex.ParamName == "clients" ? (object)Client : Verdict)); }
        }

        protected override void ProcessRecord()
        {
            var files = new List<string>();
            foreach (var given in ParameterSetName == LiteralPathSet ? LiteralPath : Path)
                foreach (var file in Resolve(given, ParameterSetName == LiteralPathSet))
                    foreach (var f in _reader.FilesOf(file))
                        if (_read.Add(f)) files.Add(f);
            ReadAll(files);
        }

        /// <summary>The log files a path names: a wildcard its matches (none is no error), a plain
        /// path itself when it or a rotated file of it exists.</summary>
        IEnumerable<string> Resolve(string given, bool literal)
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

        void ReadAll(List<string> files)
        {
            long total = 0, done = 0;
            foreach (var f in files)
                try { total += new FileInfo(f).Length; } catch (IOException) { }
            var progress = new ProgressRecord(ProgressId, "Reading smtpd logs", "0 MB of " + Mb(total) + " MB");
            var clock = Stopwatch.StartNew();
            var shown = false;
            var lastShown = TimeSpan.Zero;
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
                    foreach (var e in _reader.Read(file, error => WriteError(ErrorMapping.From(error)), bytes, StopToken))
                        WriteObject(e);
                }
                catch (FileNotFoundException) { WriteError(ErrorMapping.LogNotFound(file)); }
                catch (DirectoryNotFoundException) { WriteError(ErrorMapping.LogNotFound(file)); }
                catch (OperationCanceledException) { return; }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { WriteError(ErrorMapping.LogUnreadable(ex, file)); }
                try { done += new FileInfo(file).Length; } catch (IOException) { }
            }
            if (shown)
            {
                progress.RecordType = ProgressRecordType.Completed;
                WriteProgress(progress);
            }
        }

        static string Mb(long bytes) => (bytes / (1024 * 1024)).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
