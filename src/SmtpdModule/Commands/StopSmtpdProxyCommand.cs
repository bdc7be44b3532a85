using System.Collections.Generic;
using System.Linq;
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
    public sealed class StopSmtpdProxyCommand : StopRunningCmdlet
    {
        internal override string Kind => ControlLocation.ProxyKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ProxyStatus.FromFields(answer, controlFile);
        internal override string StopAction => "Stop SMTP proxy";

        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = ById)]
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = BySpool)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = ByObject)]
        public SmtpProxy[] InputObject { get; set; }

        internal override int[] Ids => Id;
        internal override IEnumerable<Target> Piped() => InputObject.Select(Of);
        internal override Target Find(int id) => Of(ProxyRegistry.Find(id));

        static Target Of(SmtpProxy proxy) => proxy == null ? null
            : new Target(proxy, "proxy " + proxy.Id + " (" + string.Join(", ", proxy.LocalEndPoints) + ")", t => proxy.StopAsync(t));
    }
}
