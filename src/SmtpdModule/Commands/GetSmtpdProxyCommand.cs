using System;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdProxy: the proxies running in this PowerShell process, with live counters; with
    /// -SpoolPath, the proxies of any process on this machine that serve that spool (a service, a
    /// scheduled task), asked through their control channel.
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "SmtpdProxy")]
    [OutputType(typeof(SmtpProxy), typeof(ProxyStatus))]
    public sealed class GetSmtpdProxyCommand : SmtpdCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ProxyIdCompleter))]
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
                foreach (var p in ProxyRegistry.All) WriteObject(p);
                return;
            }
            foreach (var id in Id)
            {
                var p = ProxyRegistry.Find(id);
                if (p != null) WriteObject(p);
                else WriteError(ErrorMapping.ProxyNotFound(id));
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
            try { found = ControlLookup.Find(spool, ControlLocation.ProxyKind, Id, 0); }
            catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, ControlPathOf(spool))); return; }
            var seen = new System.Collections.Generic.HashSet<int>();
            foreach (var location in found)
            {
                ControlFields answer = null;
                try { answer = Run(_ => ControlLookup.AskAsync(location, ControlRequest.Status, ControlLookup.StatusTimeout)); }
                catch (ControlException ex) { WriteError(ErrorMapping.From(ex)); continue; }
                catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, location.File)); continue; }
                if (answer == null) continue;   // stale: removed, not running
                seen.Add(location.Id);
                WriteObject(ProxyStatus.FromFields(answer, location.File));
            }
            if (Id != null)
                foreach (var id in Id)
                    if (!seen.Contains(id)) WriteError(ErrorMapping.NotFoundInSpool("proxy", id, spool));
        }

        internal static string ControlPathOf(string spool) => System.IO.Path.Combine(spool, ControlLocation.DirectoryName);
    }
}
