using System;
using System.Collections.Generic;
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
    public sealed class GetSmtpdLogCommand : LogFileCmdlet
    {
        const string PathSet = "Path", LiteralPathSet = "LiteralPath";

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
            var literal = ParameterSetName == LiteralPathSet;
            ReadLogs(_reader, NewLogFiles(literal ? LiteralPath : Path, literal, _reader), WriteObject, error => WriteError(ErrorMapping.From(error)));
        }
    }
}
