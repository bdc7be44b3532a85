using System.Management.Automation;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>Get-SmtpFwd: the forwarders running in this PowerShell process, with their counters.</summary>
    [Cmdlet(VerbsCommon.Get, "SmtpFwd")]
    [OutputType(typeof(Forwarder))]
    public sealed class GetSmtpFwdCommand : SmtpdCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ForwarderIdCompleter))]
        public int[] Id { get; set; }

        protected override void ProcessRecord()
        {
            if (Id == null)
            {
                foreach (var f in ForwarderRegistry.All) WriteObject(f);
                return;
            }
            foreach (var id in Id)
            {
                var f = ForwarderRegistry.Find(id);
                if (f == null) WriteError(ErrorMapping.ForwarderNotFound(id));
                else WriteObject(f);
            }
        }
    }
}
