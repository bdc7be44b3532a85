using System;
using System.Collections.Generic;
using System.Management.Automation;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// What Get-SmtpdProxy, Get-SmtpFwd, Stop-SmtpdProxy and Stop-SmtpFwd do with -SpoolPath: find
    /// the control endpoints of the running proxies or forwarders of any process in the spool's
    /// control folder, ask each for its status or stop it, and write what they answer.
    /// </summary>
    /// <remarks>
    /// Not generic over the engine's types on purpose: PowerShell reads the public types of this
    /// assembly (base types included) before ModuleInitializer.OnImport can load the engine, so the
    /// kind is a string and the status a method the cmdlet supplies.
    /// </remarks>
    public abstract class ControlChannelCmdlet : SmtpdCmdlet
    {
        /// <summary><see cref="ControlLocation.ProxyKind"/> or <see cref="ControlLocation.ForwarderKind"/>.</summary>
        internal abstract string Kind { get; }

        /// <summary>The status object the cmdlet writes for one answer.</summary>
        internal abstract object StatusFrom(ControlFields answer, string controlFile);

        /// <summary>Writes the status of each instance serving <paramref name="spoolPath"/> (all, or those in <paramref name="ids"/>).</summary>
        internal void WriteStatusFromSpool(string spoolPath, int[] ids) =>
            ForEachInSpool(spoolPath, ids, 0, null, location =>
            {
                var answer = Run(_ => ControlLookup.AskAsync(location, ControlRequest.Status, ControlLookup.StatusTimeout));
                if (answer != null) WriteObject(StatusFrom(answer, location.File));
                return answer != null;
            });

        /// <summary>Stops each instance serving <paramref name="spoolPath"/> (all, or those in <paramref name="ids"/>, of one process
        /// when <paramref name="processId"/> is not 0) gracefully, within <paramref name="timeout"/>.</summary>
        internal void StopInSpool(string spoolPath, int[] ids, int processId, TimeSpan timeout, bool passThru, string action) =>
            ForEachInSpool(spoolPath, ids, processId, action, location =>
            {
                // The answer comes once the instance has stopped: its bound, the close, and a margin.
                var answer = Run(_ => ControlLookup.AskAsync(location, ControlRequest.Stop(timeout), timeout + TimeSpan.FromSeconds(30)));
                if (answer != null && passThru) WriteObject(StatusFrom(answer, location.File));
                return answer != null;
            });

        /// <param name="action">ShouldProcess's action; null when the request changes nothing.</param>
        /// <param name="ask">Asks one endpoint; false when it turned out stale (not running).</param>
        void ForEachInSpool(string spoolPath, int[] ids, int processId, string action, Func<ControlLocation, bool> ask)
        {
            if (!TryGetFileSystemPath(spoolPath, out var spool))
            {
                WriteError(ErrorMapping.NotInFileSystem(spoolPath));
                return;
            }
            List<ControlLocation> found;
            try { found = ControlLookup.Find(spool, Kind, ids, processId); }
            catch (UnauthorizedAccessException ex)
            {
                WriteError(ErrorMapping.ControlAccessDenied(ex, System.IO.Path.Combine(spool, ControlLocation.DirectoryName)));
                return;
            }
            var answered = new HashSet<int>();
            foreach (var location in found)
            {
                if (action != null && !ShouldProcess(Kind + " " + location.Id + " of process " + location.ProcessId + " (" + spool + ")", action))
                {
                    answered.Add(location.Id);
                    continue;
                }
                try { if (ask(location)) answered.Add(location.Id); }
                catch (ControlException ex) { WriteError(ErrorMapping.From(ex)); }
                catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, location.File)); }
            }
            if (ids != null)
                foreach (var id in ids)
                    if (!answered.Contains(id)) WriteError(ErrorMapping.NotFoundInSpool(Kind, id, spool));
        }
    }
}
