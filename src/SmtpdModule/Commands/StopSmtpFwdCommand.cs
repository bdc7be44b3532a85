using System.Collections.Generic;
using System.Linq;
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
    public sealed class StopSmtpFwdCommand : StopRunningCmdlet
    {
        internal override string Kind => ControlLocation.ForwarderKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ForwarderStatus.FromFields(answer, controlFile);
        internal override string StopAction => "Stop forwarder";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public Forwarder[] InputObject { get; set; }

        internal override int[] Ids => Id;
        internal override IEnumerable<Target> Piped() => InputObject.Select(Of);
        internal override Target Find(int id) => Of(ForwarderRegistry.Find(id));

        static Target Of(Forwarder forwarder) => forwarder == null ? null
            : new Target(forwarder, "forwarder " + forwarder.Id + " (" + forwarder.SpoolPath + " to " + forwarder.Target + ")", t => forwarder.StopAsync(t));
    }
}
