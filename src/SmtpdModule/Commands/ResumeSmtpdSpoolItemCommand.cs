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
    public sealed class ResumeSmtpdSpoolItemCommand : SpoolCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SpoolIdCompleter))]
        public string[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            var spool = OpenSpool(SpoolPath);
            foreach (var id in Id)
            {
                if (!ShouldProcess(id, "Release spooled message for delivery now")) continue;
                try
                {
                    var item = spool.Release(id);
                    if (PassThru) WriteObject(item);
                }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); }
            }
        }
    }
}
