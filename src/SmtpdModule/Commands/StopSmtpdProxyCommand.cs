using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Stop-SmtpdProxy: stops a proxy gracefully — no new sessions, idle sessions get 421,
    /// transactions in flight may finish within -TimeoutSeconds; nothing acknowledged is lost.
    /// With -SpoolPath it stops, through their control channel, the proxies of any process on
    /// this machine that serve that spool: how a service or scheduled task is stopped gracefully.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "SmtpdProxy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ById)]
    [OutputType(typeof(SmtpProxy), typeof(ProxyStatus))]
    public sealed class StopSmtpdProxyCommand : ControlChannelCmdlet
    {
        internal override string Kind => ControlLocation.ProxyKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ProxyStatus.FromFields(answer, controlFile);

        const string ById = "Id", ByObject = "InputObject", BySpool = "SpoolPath";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public SmtpProxy[] InputObject { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        /// <summary>Only the proxy of this process (with -SpoolPath); 0 or none: any.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        public int ProcessId { get; set; }

        [Parameter]
        [ValidateRange(0, 3600)]
        public double TimeoutSeconds { get; set; } = 30;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByObject)
            {
                foreach (var p in InputObject) Stop(p);
                return;
            }
            if (ParameterSetName == BySpool)
            {
                StopInSpool(SpoolPath, Id, ProcessId, TimeSpan.FromSeconds(TimeoutSeconds), PassThru, "Stop SMTP proxy");
                return;
            }
            foreach (var id in Id)
            {
                var p = ProxyRegistry.Find(id);
                if (p == null) WriteError(ErrorMapping.ProxyNotFound(id));
                else Stop(p);
            }
        }

        void Stop(SmtpProxy proxy)
        {
            if (!ShouldProcess("proxy " + proxy.Id + " (" + string.Join(", ", proxy.LocalEndPoints) + ")", "Stop SMTP proxy")) return;
            Run(_ => proxy.StopAsync(TimeSpan.FromSeconds(TimeoutSeconds)).ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }));
            if (PassThru) WriteObject(proxy);
        }
    }
}
