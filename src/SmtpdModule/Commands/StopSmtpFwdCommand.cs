using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Stop-SmtpFwd: stops a forwarder gracefully: it claims nothing more, deliveries in flight may
    /// finish within -TimeoutSeconds, the rest are cancelled and go back to the spool unchanged.
    /// With -SpoolPath it stops, through their control channel, the forwarders of any process on
    /// this machine that serve that spool: how a service or scheduled task is stopped gracefully.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Stop, "SmtpFwd", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ById)]
    [OutputType(typeof(Forwarder), typeof(ForwarderStatus))]
    public sealed class StopSmtpFwdCommand : ControlChannelCmdlet
    {
        internal override string Kind => ControlLocation.ForwarderKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ForwarderStatus.FromFields(answer, controlFile);

        const string ById = "Id", ByObject = "InputObject", BySpool = "SpoolPath";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public Forwarder[] InputObject { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        /// <summary>Only the forwarder of this process (with -SpoolPath); 0 or none: any.</summary>
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
                foreach (var f in InputObject) Stop(f);
                return;
            }
            if (ParameterSetName == BySpool)
            {
                StopInSpool(SpoolPath, Id, ProcessId, TimeSpan.FromSeconds(TimeoutSeconds), PassThru, "Stop forwarder");
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
