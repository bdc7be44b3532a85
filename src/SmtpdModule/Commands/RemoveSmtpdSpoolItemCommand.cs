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
    public sealed class RemoveSmtpdSpoolItemCommand : SpoolItemCmdlet
    {
        protected override void ProcessRecord() =>
            ForEachItem("Remove spooled message", (spool, id) => spool.Remove(id));
    }
}
