using System;
using System.Collections.Generic;
using SmtpdModule.Engine.Control;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// What the cmdlets that read a running proxy's state through its control channel share
    /// (Get-/Remove-SmtpdGreylistEntry, Get-SmtpdRuleHit): the proxies serving a spool, and one
    /// request to one of them, each failure written as an error rather than thrown.
    /// </summary>
    /// <remarks>Engine types only in internal members, as <see cref="ControlChannelCmdlet"/> explains.</remarks>
    public abstract class ProxyChannelCmdlet : SmtpdCmdlet
    {
        /// <summary>What the command reads, for the error when no proxy serves the spool ("greylist state is").</summary>
        internal virtual string ReadsWhat => "greylist state is";

        /// <summary>The live control endpoints of the proxies serving <paramref name="spoolPath"/>; null when
        /// there are none or the path is unusable (the error is written).</summary>
        internal List<ControlLocation> ProxiesOf(string spoolPath)
        {
            if (!TryGetFileSystemPath(spoolPath, out var spool))
            {
                WriteError(ErrorMapping.NotInFileSystem(spoolPath));
                return null;
            }
            List<ControlLocation> found;
            try { found = ControlLookup.Find(spool, ControlLocation.ProxyKind, null, 0); }
            catch (UnauthorizedAccessException ex)
            {
                WriteError(ErrorMapping.ControlAccessDenied(ex, System.IO.Path.Combine(spool, ControlLocation.DirectoryName)));
                return null;
            }
            if (found.Count == 0)
            {
                WriteError(ErrorMapping.NoProxyServes(spool, ReadsWhat));
                return null;
            }
            return found;
        }

        /// <summary>One request; null when it failed (the error is written) or the endpoint turned out stale.</summary>
        internal ControlFields Ask(ControlLocation location, string request)
        {
            try { return Run(_ => ControlLookup.AskAsync(location, request, ControlLookup.StatusTimeout)); }
            catch (ControlException ex) { WriteError(ErrorMapping.From(ex)); }
            catch (UnauthorizedAccessException ex) { WriteError(ErrorMapping.ControlAccessDenied(ex, location.File)); }
            return null;
        }
    }
}
