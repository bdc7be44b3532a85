using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Test-SmtpdDnsbl: asks each DNSBL zone about its RFC 5782 test points, as the proxy's health
    /// guard does, and writes one <see cref="DnsblProbeResult"/> per zone (Healthy, Status, the answers
    /// seen, Detail); with -Quiet, true when every zone is healthy.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Test, "SmtpdDnsbl")]
    [OutputType(typeof(DnsblProbeResult))]
    [OutputType(typeof(bool))]
    public sealed class TestSmtpdDnsblCommand : SmtpdCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Zone { get; set; }

        [Parameter]
        public string[] DnsServer { get; set; }

        [Parameter]
        public SwitchParameter Quiet { get; set; }

        DnsClientResolver _dns;
        readonly List<string> _zones = new List<string>();
        bool _failed;

        protected override void BeginProcessing()
        {
            var options = DnsOptionsFrom(DnsServer);
            try { _dns = new DnsClientResolver(options); }
            catch (InvalidOperationException ex) { ThrowTerminatingError(ErrorMapping.NoDns(ex)); }
        }

        protected override void ProcessRecord()
        {
            foreach (var zone in Zone)
            {
                var why = DnsblProbe.CheckZone(zone);
                if (why != null) { WriteError(ErrorMapping.BadDnsblZone(zone, why)); _failed = true; continue; }
                _zones.Add(zone.TrimEnd('.'));
            }
        }

        // All zones are probed together at the end: a slow list costs its timeout once, not once per zone.
        protected override void EndProcessing()
        {
            if (_zones.Count == 0) { if (Quiet) WriteObject(false); return; }
            var results = Run(token => System.Threading.Tasks.Task.WhenAll(_zones.Select(z => DnsblProbe.ProbeAsync(_dns, z, token))));
            if (results == null) return;   // stopped
            if (Quiet) WriteObject(!_failed && results.All(r => r.Healthy));
            else foreach (var r in results) WriteObject(r);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _dns?.Dispose();
        }
    }
}
