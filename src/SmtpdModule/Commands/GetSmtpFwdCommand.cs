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
    public sealed class GetSmtpFwdCommand : SmtpdCmdlet
    {
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
                foreach (var spool in SpoolPath) FromSpool(spool);
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

        void FromSpool(string spoolPath)
        {
            if (!TryGetFileSystemPath(spoolPath, out var spool))
            {
                WriteError(new ErrorRecord(new ArgumentException("'" + spoolPath + "' is not a file-system path."), "PathNotInFileSystem", ErrorCategory.InvalidArgument, spoolPath));
                return;
            }
            System.Collections.Generic.List<ControlLocation> found;
            try { found = ControlLookup.Find(spool, ControlLocation.ForwarderKind, Id, 0); }
            catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, GetSmtpdProxyCommand.ControlPathOf(spool))); return; }
            var seen = new System.Collections.Generic.HashSet<int>();
            foreach (var location in found)
            {
                ControlFields answer = null;
                try { answer = Run(_ => ControlLookup.AskAsync(location, ControlRequest.Status, ControlLookup.StatusTimeout)); }
                catch (ControlException ex) { WriteError(ErrorMapping.From(ex)); continue; }
                catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, location.File)); continue; }
                if (answer == null) continue;   // stale: removed, not running
                seen.Add(location.Id);
                WriteObject(ForwarderStatus.FromFields(answer, location.File));
            }
            if (Id != null)
                foreach (var id in Id)
                    if (!seen.Contains(id)) WriteError(ErrorMapping.NotFoundInSpool("forwarder", id, spool));
        }
    }
}
