using System.Management.Automation;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Suspend-SmtpdSpoolItem: puts messages aside in <c>held/</c>, where no forwarder delivers
    /// them until Resume-SmtpdSpoolItem releases them. Holding a held message does nothing; a
    /// message a forwarder is delivering right now is SpoolItemBusy.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Suspend, "SmtpdSpoolItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(SpoolItem))]
    public sealed class SuspendSmtpdSpoolItemCommand : SpoolItemCmdlet
    {
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord() =>
            ForEachItem("Hold spooled message", (spool, id) =>
            {
                var item = spool.Hold(id);
                if (PassThru) WriteObject(item);
            });
    }
}
