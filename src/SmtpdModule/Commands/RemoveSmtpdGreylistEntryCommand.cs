using System.Collections.Generic;
using System.Management.Automation;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Remove-SmtpdGreylistEntry: clears greylisting's state, entries piped from
    /// Get-SmtpdGreylistEntry or those the filters select, in a proxy of this process (-Proxy) or
    /// any proxy serving a spool (-SpoolPath, through its control channel). A removed triplet
    /// starts over at its next try; a removed trap or auto-allow count takes effect at once.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "SmtpdGreylistEntry", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
            DefaultParameterSetName = FilterSpool)]
    [OutputType(typeof(GreylistEntry))]
    public sealed class RemoveSmtpdGreylistEntryCommand : GreylistCmdlet
    {
        const string EntrySpool = "EntrySpoolPath", EntryProxy = "EntryProxy", FilterSpool = "SpoolPath", FilterProxy = "Proxy";

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = EntrySpool)]
        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = EntryProxy)]
        [ValidateNotNull]
        public GreylistEntry[] InputObject { get; set; }

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = FilterSpool)]
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = EntrySpool)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = FilterProxy)]
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = EntryProxy)]
        [ValidateNotNull]
        public SmtpProxy Proxy { get; set; }

        [Parameter(ParameterSetName = FilterSpool)]
        [Parameter(ParameterSetName = FilterProxy)]
        [ValidateNotNullOrEmpty]
        public string Client { get; set; }

        [Parameter(ParameterSetName = FilterSpool)]
        [Parameter(ParameterSetName = FilterProxy)]
        [ValidateNotNullOrEmpty]
        public string From { get; set; }

        [Parameter(ParameterSetName = FilterSpool)]
        [Parameter(ParameterSetName = FilterProxy)]
        [ValidateNotNullOrEmpty]
        public string To { get; set; }

        [Parameter(ParameterSetName = FilterSpool)]
        [Parameter(ParameterSetName = FilterProxy)]
        public GreylistEntryKind[] Kind { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            IEnumerable<GreylistEntry> entries = InputObject;
            if (entries == null)
            {
                var filter = FilterFrom(Client, From, To, Kind);
                entries = Proxy != null ? ListHere(Proxy, filter, GreylistReader.ScanLimit, out _)
                                        : ListInSpool(SpoolPath, filter, GreylistReader.ScanLimit, out _);
                if (entries == null) return;
            }
            foreach (var entry in entries)
            {
                if (!ShouldProcess(Describe(entry), "Remove greylist entry")) continue;
                var removed = Proxy != null ? RemoveHere(Proxy, entry.Key) : RemoveInSpool(SpoolPath, entry.Key);
                if (removed == false) WriteError(ErrorMapping.GreylistEntryGone(entry.Key));
                else if (removed == true && PassThru) WriteObject(entry);
            }
        }
    }
}
