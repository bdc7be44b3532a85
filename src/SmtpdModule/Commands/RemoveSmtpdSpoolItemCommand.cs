using System.Management.Automation;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Remove-SmtpdSpoolItem: deletes messages and their delivery records from the spool, in
    /// whatever state they are but active (a forwarder delivering it: SpoolItemBusy). The message
    /// leaves its state directory by one rename before it is deleted, so a forwarder never claims
    /// half a removal.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "SmtpdSpoolItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveSmtpdSpoolItemCommand : SpoolCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SpoolIdCompleter))]
        public string[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        protected override void ProcessRecord()
        {
            var spool = OpenSpool(SpoolPath);
            foreach (var id in Id)
            {
                if (!ShouldProcess(id, "Remove spooled message")) continue;
                try { spool.Remove(id); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); }
            }
        }
    }
}
