using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Removes what a crash leaves behind, when a spool is opened and now and then after: files in
    /// <c>incoming/</c>. Everything removed here was never acknowledged: a message is acknowledged
    /// only after its file was renamed into <c>ready/</c> and that directory synced, and a file in
    /// <c>incoming/</c> is by definition not renamed (yet).
    /// </summary>
    internal static class SpoolCleanup
    {
        /// <summary>
        /// Deletes the files in <c>incoming/</c> last written more than <paramref name="minimumAge"/>
        /// ago, except those a live writer has open. Every incoming file is opened
        /// <see cref="FileShare.None"/> while it is written: on Windows that is a sharing lock, on
        /// Unix the runtime adds an advisory <c>flock</c>. So the probe, which asks for the same
        /// exclusive access, fails on a file in use, and otherwise deletes it on close while
        /// holding it; a writer cannot reopen it in between.
        /// </summary>
        /// <remarks>
        /// A commit closes its file before renaming it, so for those microseconds the file is
        /// unlocked. If the sweep takes it then, the deletion (by name, at the probe's close) and
        /// the commit's rename race, and either order is safe: the rename first, and the deletion
        /// finds no file and ready/ keeps the message; the deletion first, and the rename fails,
        /// so the commit fails and the client is told to retry. The age spares that client the
        /// retry (a body's last write is just before its close); nothing acknowledged depends on
        /// it. The same holds if file locking is switched off in the runtime, which it can be by
        /// configuration.
        /// </remarks>
        /// <returns>How many files were removed.</returns>
        public static int RemoveIncomingDebris(string root, TimeSpan minimumAge, DateTime utcNow)
        {
            var removed = 0;
            foreach (var path in Directory.EnumerateFiles(Path.Combine(root, SpoolLayout.Incoming)))
            {
                try
                {
                    if (utcNow - File.GetLastWriteTimeUtc(path) < minimumAge) continue;
                    using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose))
                    {
                    }
                    removed++;
                }
                catch (IOException) { }                 // in use, or gone already
                catch (UnauthorizedAccessException) { } // not ours to delete; left for an administrator
            }
            return removed;
        }
    }
}
