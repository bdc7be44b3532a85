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
    public sealed class SuspendSmtpdSpoolItemCommand : SpoolCmdlet
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
                if (!ShouldProcess(id, "Hold spooled message")) continue;
                try
                {
                    var item = spool.Hold(id);
                    if (PassThru) WriteObject(item);
                }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); }
            }
        }
    }
}
