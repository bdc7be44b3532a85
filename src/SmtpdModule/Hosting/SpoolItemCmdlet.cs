using System;
using System.Management.Automation;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// The *-SmtpdSpoolItem cmdlets: messages named by <c>-Id</c> in the spool at <c>-SpoolPath</c>,
    /// both bound by property name so <c>Get-SmtpdSpool | Resume-SmtpdSpoolItem</c> works.
    /// </summary>
    public abstract class SpoolItemCmdlet : SpoolCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(SpoolIdCompleter))]
        public string[] Id { get; set; }

        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        /// <summary>Runs <paramref name="work"/> for each id the user confirms; a message that
        /// fails is reported and the others still go on.</summary>
        protected void ForEachItem(string action, Action<SpoolQueue, string> work)
        {
            var spool = OpenSpool(SpoolPath);
            foreach (var id in Id)
            {
                if (!ShouldProcess(id, action)) continue;
                try { work(spool, id); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); }
            }
        }
    }
}
