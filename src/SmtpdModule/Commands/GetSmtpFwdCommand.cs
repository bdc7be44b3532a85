using System;
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
    public sealed class GetSmtpFwdCommand : ControlChannelCmdlet
    {
        internal override string Kind => ControlLocation.ForwarderKind;
        internal override object StatusFrom(ControlFields answer, string controlFile) => ForwarderStatus.FromFields(answer, controlFile);

        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] SpoolPath { get; set; }

        protected override void ProcessRecord()
        {
            if (SpoolPath != null)
            {
                foreach (var spool in SpoolPath) WriteStatusFromSpool(spool, Id);
                return;
            }
            if (Id == null)
            {
                foreach (var f in ForwarderRegistry.All) WriteObject(f);
                return;
            }
            foreach (var id in Id)
            {
                var f = ForwarderRegistry.Find(id);
                if (f != null) WriteObject(f);
                else WriteError(ErrorMapping.ForwarderNotFound(id));
            }
        }
    }
}
