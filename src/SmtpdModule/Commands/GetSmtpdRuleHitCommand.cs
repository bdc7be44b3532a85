using System.Collections.Generic;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdRuleHit: how often each rule line of a running proxy decided a recipient, by verdict
    /// (accepted, refused, deferred, closed), and the recipients no line decided, by why; of any proxy
    /// serving a spool (-SpoolPath, through its control channel: a service), or of proxies of this
    /// process (-Id, -InputObject). One object per row: the lines in file order, then the others.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdRuleHit", DefaultParameterSetName = BySpool)]
    [OutputType(typeof(RuleHit))]
    public sealed class GetSmtpdRuleHitCommand : ProxyChannelCmdlet
    {
        const string BySpool = "SpoolPath", ById = "Id", ByProxy = "InputObject";
        // A reload between pages changes the rows; the listing starts again, this often at most.
        const int Restarts = 3;

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string[] SpoolPath { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ById)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByProxy)]
        [ValidateNotNull]
        public SmtpProxy[] InputObject { get; set; }

        internal override string ReadsWhat => "rule hits are";

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case BySpool:
                    foreach (var spool in SpoolPath) WriteFromSpool(spool);
                    break;
                case ById:
                    foreach (var id in Id)
                    {
                        var proxy = ProxyRegistry.Find(id);
                        if (proxy == null) WriteError(ErrorMapping.ProxyNotFound(id));
                        else Write(proxy.RuleHits.All);
                    }
                    break;
                default:
                    foreach (var proxy in InputObject) Write(proxy.RuleHits.All);
                    break;
            }
        }

        void Write(IEnumerable<RuleHit> rows)
        {
            foreach (var row in rows) WriteObject(row);
        }

        void WriteFromSpool(string spoolPath)
        {
            var locations = ProxiesOf(spoolPath);
            if (locations == null) return;
            foreach (var location in locations)
            {
                var rows = Read(location);
                if (rows != null) Write(rows);
            }
        }

        // Every page of one proxy's rows, of one version of its rules; null when a request failed.
        List<RuleHit> Read(ControlLocation location)
        {
            for (var attempt = 0; ; attempt++)
            {
                var rows = new List<RuleHit>();
                string first = null;
                var offset = 0;
                var changed = false;
                while (offset >= 0)
                {
                    var answer = Ask(location, RuleHitControl.Request(offset));
                    if (answer == null) return null;
                    rows.AddRange(RuleHitControl.ReadPage(answer, location.Id, location.ProcessId, out var sha, out offset));
                    if (first == null) first = sha;
                    else if (sha != first) { changed = true; break; }
                }
                if (!changed) return rows;
                if (attempt == Restarts)
                {
                    WriteWarning("The rules of proxy " + location.Id + " of process " + location.ProcessId
                        + " changed while its rule hits were read, again and again; the rows shown may mix two versions of the rules.");
                    return rows;
                }
            }
        }
    }
}
