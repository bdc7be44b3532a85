using System;
using System.Management.Automation;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Stop-SmtpdProxy: stops a proxy gracefully — no new sessions, idle sessions get 421,
    /// transactions in flight may finish within -TimeoutSeconds; nothing acknowledged is lost.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "SmtpdProxy", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ById)]
    [OutputType(typeof(SmtpProxy))]
    public sealed class StopSmtpdProxyCommand : SmtpdCmdlet
    {
        const string ById = "Id", ByObject = "InputObject";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public SmtpProxy[] InputObject { get; set; }

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
