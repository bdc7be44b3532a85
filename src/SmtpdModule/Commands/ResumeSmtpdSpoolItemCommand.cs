using System.Management.Automation;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Resume-SmtpdSpoolItem: makes messages due now ("retry now"). A held, deferred or failed
    /// message goes back to <c>ready/</c>; a failed message's failed recipients are tried again and
    /// its queue lifetime starts again. Resuming a ready message does nothing; a message a
    /// forwarder is delivering right now is SpoolItemBusy.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Resume, "SmtpdSpoolItem", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    [OutputType(typeof(SpoolItem))]
    public sealed class ResumeSmtpdSpoolItemCommand : SpoolItemCmdlet
    {
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord() =>
            ForEachItem("Release spooled message for delivery now", (spool, id) =>
            {
                var item = spool.Release(id);
                if (PassThru) WriteObject(item);
            });
    }
}
