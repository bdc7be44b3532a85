using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Management.Automation;
using SmtpdModule.Engine.Diagnostics;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Replays every logged decision against a candidate rules file, with the facts the proxy
    /// recorded, and writes one object for each decision whose outcome changes. The tally goes to
    /// the information stream (or, with -Summary, is the only output).
    /// </summary>
    [Cmdlet(VerbsData.Compare, "SmtpdRule")]
    [OutputType(typeof(RuleChange))]
    [OutputType(typeof(RuleComparisonSummary))]
    public sealed class CompareSmtpdRuleCommand : SmtpdCmdlet
    {
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LogPath { get; set; }

        [Parameter]
        public TrafficLogFormat LogFormat { get => (TrafficLogFormat)_format; set { _format = (int)value; _formatGiven = true; } }
        // A number, as _defaultAction below; without -LogFormat each file's format is told from its first lines.
        int _format;
        bool _formatGiven;

        [Parameter]
        [ValidateRange(1970, 9999)]
        public int Year { get; set; }

        [Parameter]
        public SwitchParameter Live { get; set; }

        [Parameter]
        public string[] DnsServer { get; set; }

        [Parameter]
        public DateTime After { get; set; } = DateTime.MinValue;

        [Parameter]
        public DateTime Before { get; set; } = DateTime.MaxValue;

        [Parameter]
        public DefaultAction DefaultAction { get => (DefaultAction)_defaultAction; set => _defaultAction = (int)value; }
        // Numbers, as in Test-SmtpdRule: an engine enum field would load the engine before ModuleInitializer says where it is.
        int _defaultAction = (int)DefaultAction.Allow;

        [Parameter]
        public LookupFailurePolicy OnLookupFailure { get => (LookupFailurePolicy)_onLookupFailure; set => _onLookupFailure = (int)value; }
        int _onLookupFailure = (int)LookupFailurePolicy.NoMatch;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string HostName { get; set; }

        [Parameter]
        public SwitchParameter NoReverseLookup { get; set; }

        [Parameter]
        public SwitchParameter SkipForwardConfirmation { get; set; }

        [Parameter]
        public SwitchParameter Summary { get; set; }

        RuleComparison _comparison;
        // A file named twice (a wildcard and a log's name that brings its rotated files) is replayed once.
        readonly HashSet<string> _read = new HashSet<string>(StringComparer.Ordinal);
        readonly Stopwatch _sinceProgress = Stopwatch.StartNew();
        const int ProgressId = 1;

        protected override void BeginProcessing()
        {
            _after = After.ToUniversalTime();
            _before = Before.ToUniversalTime();
            var rulesPath = ResolveExistingFile(Path);
            RuleSet rules = null;
            try { rules = RuleSet.Load(rulesPath); }
            catch (RuleFileException ex) { ThrowTerminatingError(ErrorMapping.From(ex, rulesPath)); }
            foreach (var warning in InFileOrder(rules.Diagnostics)) WriteWarning(warning.ToString());
            // The options the proxy decided with: the replay asks what it asked, and no more.
            var policy = new PolicyOptions { ReverseLookup = !NoReverseLookup.IsPresent, ConfirmReverseName = !SkipForwardConfirmation.IsPresent };
            if (HostName != null) policy.HostName = HostName;
            _comparison = RuleComparison.ForRules(rules, new RuleEvaluationOptions { DefaultAction = DefaultAction, OnLookupFailure = OnLookupFailure },
                                                  policy, DnsOptionsFrom(DnsServer), Live.IsPresent);
        }

        protected override void ProcessRecord()
        {
            foreach (var pattern in LogPath)
                foreach (var file in ResolveLogs(pattern))
                    if (_read.Add(file) && !Replay(file)) return;   // stopped
        }

        protected override void EndProcessing()
        {
            var progress = new ProgressRecord(ProgressId, "Replaying decisions", "Done") { RecordType = ProgressRecordType.Completed };
            WriteProgress(progress);
            var summary = _comparison.Summary;
            WriteInformation(summary, new[] { "RuleComparisonSummary" });
            if (Summary.IsPresent) WriteObject(summary);
        }

        IEnumerable<string> ResolveLogs(string pattern)
        {
            if (WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                Collection<string> found = null;
                try { found = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _); }
                catch (ItemNotFoundException) { }
                if (found == null || found.Count == 0) WriteError(ErrorMapping.ReplayLogMissing(pattern));
                else foreach (var f in found) yield return f;
                yield break;
            }
            // A log's name brings its rotated files, oldest first (-LogMaxSize, -LogMaxAge), as Get-SmtpdLog reads them.
            var resolved = ResolvePath(pattern);
            var files = new LogFileSet(resolved).AllFiles();
            if (files.Count == 0) { WriteError(ErrorMapping.ReplayLogMissing(resolved)); yield break; }
            foreach (var f in files) yield return f;
        }

        /// <returns>False when the pipeline was stopped.</returns>
        bool Replay(string file)
        {
            TrafficLogFormat format;
            try { format = _formatGiven ? LogFormat : TrafficLog.Detect(file); }
            catch (Exception ex) when (ex is FormatException || ex is IOException)
            {
                WriteError(ErrorMapping.ReplayLogUnknown(ex, file));
                return true;
            }
            return format == TrafficLogFormat.Smtpd ? ReplayOwnLog(file) : ReplayImport(file, format);
        }

        /// <summary>Another server's log, imported record by record; lines it cannot read are counted, not errors.</summary>
        bool ReplayImport(string file, TrafficLogFormat format)
        {
            var options = new TrafficLogOptions { Stats = new TrafficLogStats() };
            if (Year != 0) options.Year = Year;
            try
            {
                foreach (var record in TrafficLog.Read(file, format, options))
                {
                    if (StopToken.IsCancellationRequested) return false;
                    if (!InWindow(record)) continue;
                    if (!Compare(record)) return false;
                    if (_sinceProgress.ElapsedMilliseconds >= 250) Progress(file, 0, 0);
                }
            }
            catch (Exception ex) when (ex is FormatException || ex is IOException)
            {
                WriteError(ErrorMapping.ReplayLogUnknown(ex, file));
            }
            WriteVerbose(file + " (" + format + "): " + options.Stats.Lines + " lines, " + options.Stats.Records + " records, "
                         + options.Stats.Skipped + " lines passed over");
            foreach (var skipped in options.Stats.SkippedSamples) WriteVerbose(skipped.ToString());
            return true;
        }

        bool InWindow(DecisionRecord record) => record.Time.UtcDateTime >= _after && record.Time.UtcDateTime <= _before;
        DateTime _after, _before;

        /// <summary>This proxy's own log: a line that is not a record is an error naming it, and the replay goes on.</summary>
        bool ReplayOwnLog(string file)
        {
            // No FileStream buffer: the reader's own reads are large. The proxy may be appending.
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1))
            using (var reader = new DecisionLogReader(stream, cancellationToken: StopToken))
            {
                try
                {
                    while (reader.Read(out var entry))
                    {
                        if (StopToken.IsCancellationRequested) return false;
                        if (entry.Error != null) { WriteError(ErrorMapping.ReplayLogLineBad(entry.Error, file, entry.LineNumber)); continue; }
                        var record = entry.Record;
                        if (!InWindow(record)) continue;
                        if (!Compare(record)) return false;
                        if (_sinceProgress.ElapsedMilliseconds >= 250) Progress(file, reader.Position, stream.Length);
                    }
                }
                catch (OperationCanceledException) when (StopToken.IsCancellationRequested) { return false; }
            }
            return true;
        }

        bool Compare(DecisionRecord record)
        {
            RuleChange change;
            try
            {
                // Recorded facts answer at once; only a question the log did not hold waits on DNS.
                var task = _comparison.CompareAsync(record, StopToken);
                if (task.IsCompleted) change = task.GetAwaiter().GetResult();
                else
                {
                    change = Run(token => task);
                    if (StopToken.IsCancellationRequested) return false;
                }
            }
            catch (Exception ex) when (ex is NotSupportedException || ex is FormatException)
            {
                WriteError(ErrorMapping.NotReplayable(ex, record));
                return true;
            }
            if (change != null && !Summary.IsPresent) WriteObject(change);
            return true;
        }

        void Progress(string file, long position, long length)
        {
            _sinceProgress.Restart();
            var s = _comparison.Summary;
            var record = new ProgressRecord(ProgressId, "Replaying decisions from " + file, s.Total + " replayed, " + s.Changed + " changed");
            if (length > 0) record.PercentComplete = (int)Math.Min(100, position * 100 / length);
            WriteProgress(record);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _comparison?.Dispose();
            base.Dispose(disposing);
        }
    }
}
