using System;
using System.Management.Automation;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// The base of the spool cmdlets (Get-SmtpdSpool and the *-SmtpdSpoolItem cmdlets): opens the
    /// spool a -SpoolPath names, once per path for the whole pipeline. The path is a PowerShell
    /// path (relative to the current location, a drive such as TestDrive:, <c>~</c>), resolved
    /// through SessionState, never against the process directory.
    /// </summary>
    /// <remarks>
    /// A path with no spool ends the command (SpoolNotFound): every id given with it would fail
    /// the same way, and a mistyped path must not read as "no such message" once per id.
    /// </remarks>
    public abstract class SpoolCmdlet : SmtpdCmdlet
    {
        SpoolQueue _spool;
        string _root;

        /// <summary>The spool at <paramref name="spoolPath"/>; ends the command with SpoolPathIsFile
        /// for a file, SpoolNotFound when there is none, or SpoolUnavailable when it cannot be completed.</summary>
        protected SpoolQueue OpenSpool(string spoolPath)
        {
            var root = RequireSpoolFolder(ResolvePath(spoolPath, path => ErrorMapping.NoSpool(path, null)));
            // Piped items usually share one spool: open it once per path.
            if (_spool != null && string.Equals(_root, root, StringComparison.Ordinal))
                return _spool;
            try
            {
                _spool = SpoolQueue.Open(root);
                _root = root;
            }
            catch (SpoolException ex) { ThrowTerminatingError(ErrorMapping.FromSpoolListing(ex, root)); }
            catch (ArgumentException ex) { ThrowTerminatingError(ErrorMapping.NoSpool(spoolPath, ex)); }
            return _spool;
        }
    }
}
