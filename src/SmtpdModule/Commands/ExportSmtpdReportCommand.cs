using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Evidence.Report;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Export-SmtpdReport: the proxy's and the forwarder's logs over a window, as one self-contained
    /// HTML page for a morning mail (Engine/Evidence/Report). Log paths may come from the pipeline
    /// (Get-SmtpdProxy, Get-SmtpFwd): the page is written once, after the last.
    /// </summary>
    [Cmdlet(VerbsData.Export, "SmtpdReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(TrafficReport))]
    public sealed class ExportSmtpdReportCommand : LogFileCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[] LogPath { get; set; }

        /// <summary>The HTML file to write.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; }

        [Parameter] public DateTime After { get; set; }
        [Parameter] public DateTime Before { get; set; }
        [Parameter] public TimeSpan Interval { get; set; }
        [Parameter] [ValidateRange(1, 1000)] public int Top { get; set; } = 10;
        [Parameter] [ValidateNotNullOrEmpty] public string Title { get; set; }
        /// <summary>Counted now for the report's spool section.</summary>
        [Parameter] [ValidateNotNullOrEmpty] public string SpoolPath { get; set; }
        /// <summary>Times in UTC rather than this computer's zone.</summary>
        [Parameter] public SwitchParameter UtcTime { get; set; }
        [Parameter] public SwitchParameter NoClobber { get; set; }
        [Parameter] public SwitchParameter PassThru { get; set; }

        readonly List<string> _files = new List<string>();
        TrafficReportOptions _options;
        LogReader _reader;

        protected override void BeginProcessing()
        {
            var before = Bound(nameof(Before)) ? new DateTimeOffset(Before) : DateTimeOffset.Now;
            var after = Bound(nameof(After)) ? new DateTimeOffset(After) : before.AddDays(-1);
            try
            {
                _options = new TrafficReportOptions(after.ToUniversalTime(), before.ToUniversalTime(), Bound(nameof(Interval)) ? Interval : (TimeSpan?)null)
                {
                    Top = Top,
                    Title = Title ?? "Mail report: " + Environment.MachineName,
                    DisplayZone = UtcTime ? TimeZoneInfo.Utc : TimeZoneInfo.Local,
                };
            }
            catch (ArgumentException ex)
            {
                ThrowTerminatingError(ErrorMapping.BadReportWindow(ex, ex.ParamName == "interval" ? (object)Interval : before));
            }
            _reader = new LogReader(LogFilter.Create(_options.Start, _options.End));
        }

        bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

        protected override void ProcessRecord()
        {
            _files.AddRange(NewLogFiles(LogPath, literal: false, _reader));
        }

        protected override void EndProcessing()
        {
            var path = ResolvePath(Path);
            if (path == null) return;
            if (NoClobber && File.Exists(path)) { WriteError(ErrorMapping.ReportExists(path)); return; }
            if (!ShouldProcess(path, "Write the mail report")) return;

            var builder = new TrafficReportBuilder(_options);
            if (!ReadLogs(_reader, _files, builder.Add, error =>
                {
                    builder.UnreadableLines++;
                    WriteError(ErrorMapping.From(error));
                }))
                return;
            var report = builder.Build(Depth());
            try { ReportHtmlWriter.Write(report, path); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(ErrorMapping.ReportNotSaved(ex, path));
                return;
            }
            if (PassThru) WriteObject(report);
        }

        IReadOnlyList<ReportCount> Depth()
        {
            if (SpoolPath == null) return null;
            var spool = ResolvePath(SpoolPath);
            if (spool == null) return null;
            try
            {
                if (!Directory.Exists(spool)) throw new DirectoryNotFoundException("There is no spool at '" + spool + "'.");
                return SpoolDepth.Count(spool).Select(kv => new ReportCount(kv.Key, null, kv.Value)).ToList();
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                WriteError(ErrorMapping.ReportSpoolNotCounted(ex, spool));
                return null;
            }
        }
    }
}
