using System;
using System.IO;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Renames a finished file into its place, never over an existing one (ids are unique; finding
    /// the name taken is a fault, not something to overwrite).
    /// </summary>
    /// <remarks>
    /// Unix: <see cref="NoReplaceRename"/>, a renameat2 or <see cref="File.Move(string, string)"/> (some runtime versions link
    /// then unlink instead, to refuse an existing destination; a crash between the two leaves a
    /// second name in <c>incoming/</c>, which the next open removes). Either way the destination
    /// name appears atomically and names a complete, synced file. The new name is made durable
    /// afterwards by syncing the destination directory (<see cref="DirectorySync"/>).
    /// Windows: <c>MoveFileEx</c> with <c>MOVEFILE_WRITE_THROUGH</c>, retried briefly when an
    /// antivirus or indexer holds the file for a moment.
    /// </remarks>
    internal static class DurableRename
    {
        static readonly int[] WindowsRetryDelaysMs = { 10, 20, 40, 80, 160 };

        /// <exception cref="IOException">The rename failed.</exception>
        /// <exception cref="UnauthorizedAccessException">The rename was refused.</exception>
        public static async Task MoveAsync(string source, string destination)
        {
            if (!HostOsInfo.IsWindows)
            {
                NoReplaceRename.Move(source, destination);
                return;
            }
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    WindowsFileApi.MoveWriteThrough(source, destination);
                    return;
                }
                catch (IOException ex) when (attempt < WindowsRetryDelaysMs.Length && WindowsFileApi.IsTransientSharingError(ex))
                {
                }
                await Task.Delay(WindowsRetryDelaysMs[attempt]).ConfigureAwait(false);
            }
        }
    }
}
