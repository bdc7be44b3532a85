using System.Collections.Generic;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpFwd: the forwarders running in this PowerShell process, with their counters; with
    /// -SpoolPath, the forwarders of any process on this machine that serve that spool (a
    /// service, a scheduled task), asked through their control channel.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpFwd")]
    [OutputType(typeof(Forwarder), typeof(ForwarderStatus))]
    public sealed class GetSmtpFwdCommand : GetRunningCmdlet
    {
        internal override string Kind => ControlLocation.ForwarderKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ForwarderStatus.FromFields(answer, controlFile);

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        internal override int[] Ids => Id;
        internal override IEnumerable<object> Running() => ForwarderRegistry.All;
        internal override object Find(int id) => ForwarderRegistry.Find(id);
    }
}
