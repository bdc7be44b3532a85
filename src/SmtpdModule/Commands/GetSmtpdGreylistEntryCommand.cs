using System.Management.Automation;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdGreylistEntry: greylisting's state (triplets, auto-allow counts, traps) of a proxy
    /// of this process (-InputObject, read from its store) or of any proxy serving a spool
    /// (-SpoolPath, asked through its control channel: a service), filtered, at most -MaxCount.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdGreylistEntry", DefaultParameterSetName = BySpool)]
    [OutputType(typeof(GreylistEntry))]
    public sealed class GetSmtpdGreylistEntryCommand : GreylistCmdlet
    {
        const string BySpool = "SpoolPath", ByProxy = "InputObject";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string[] SpoolPath { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByProxy)]
        [ValidateNotNull]
        public SmtpProxy[] InputObject { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string Client { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string From { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string To { get; set; }

        [Parameter]
        public GreylistEntryKind[] Kind { get; set; }

        [Parameter]
        [ValidateRange(1, GreylistReader.ScanLimit)]
        public int MaxCount { get; set; } = 1000;

        protected override void ProcessRecord()
        {
            var filter = FilterFrom(Client, From, To, Kind);
            if (ParameterSetName == BySpool)
                foreach (var spool in SpoolPath)
                    Write(ListInSpool(spool, filter, MaxCount, out var capped), capped, spool, null);
            else
                foreach (var proxy in InputObject)
                    Write(ListHere(proxy, filter, MaxCount, out var capped), capped, null, proxy);
        }

        void Write(System.Collections.Generic.List<GreylistEntry> entries, bool capped, string spool, SmtpProxy proxy)
        {
            if (entries == null) return;
            foreach (var e in entries) WriteObject(Noted(e, spool, proxy));
            if (capped)
                WriteWarning("More greylist entries match than the " + entries.Count + " shown (of "
                    + (spool ?? "proxy " + proxy.Id) + "); narrow with -Client, -From, -To or -Kind, or raise -MaxCount.");
        }
    }
}
