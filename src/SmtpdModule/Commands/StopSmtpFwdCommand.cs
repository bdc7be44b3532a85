using System;
using System.Management.Automation;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Stop-SmtpFwd: stops a forwarder gracefully: it claims nothing more, deliveries in flight may
    /// finish within -TimeoutSeconds, the rest are cancelled and go back to the spool unchanged.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "SmtpFwd", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ById)]
    [OutputType(typeof(Forwarder))]
    public sealed class StopSmtpFwdCommand : SmtpdCmdlet
    {
        const string ById = "Id", ByObject = "InputObject";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public Forwarder[] InputObject { get; set; }

        [Parameter]
        [ValidateRange(0, 3600)]
        public double TimeoutSeconds { get; set; } = 30;

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByObject)
            {
                foreach (var f in InputObject) Stop(f);
                return;
            }
            foreach (var id in Id)
            {
                var f = ForwarderRegistry.Find(id);
                if (f == null) WriteError(ErrorMapping.ForwarderNotFound(id));
                else Stop(f);
            }
        }

        void Stop(Forwarder forwarder)
        {
            if (!ShouldProcess("forwarder " + forwarder.Id + " (" + forwarder.SpoolPath + " to " + forwarder.Target + ")", "Stop forwarder")) return;
            Run(_ => forwarder.StopAsync(TimeSpan.FromSeconds(TimeoutSeconds)).ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }));
            if (PassThru) WriteObject(forwarder);
        }
    }
}
