using System.Collections.Generic;
using System.Management.Automation;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// Get-SmtpdProxy and Get-SmtpFwd: what runs in this process, all or by -Id, or with -SpoolPath
    /// the status of what any process runs on that spool, asked through its control channel. Each
    /// cmdlet only names what it lists: its -Id (with the completer of its kind) and its registry.
    /// </summary>
    /// <remarks>Not generic over the engine's types, as <see cref="ControlChannelCmdlet"/> explains.</remarks>
    public abstract class GetRunningCmdlet : ControlChannelCmdlet
    {
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] SpoolPath { get; set; }

        /// <summary>The cmdlet's -Id.</summary>
        internal abstract int[] Ids { get; }

        /// <summary>Everything of the cmdlet's kind running in this process.</summary>
        internal abstract IEnumerable<object> Running();

        /// <summary>What runs in this process with <paramref name="id"/>; null when nothing does.</summary>
        internal abstract object Find(int id);

        protected override void ProcessRecord()
        {
            if (SpoolPath != null)
            {
                foreach (var spool in SpoolPath) WriteStatusFromSpool(spool, Ids);
                return;
            }
            if (Ids == null)
            {
                foreach (var item in Running()) WriteObject(item);
                return;
            }
            foreach (var id in Ids)
            {
                var item = Find(id);
                if (item != null) WriteObject(item);
                else WriteError(ErrorMapping.NotRunningHere(Kind, id));
            }
        }
    }
}
