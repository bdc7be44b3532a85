using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Clears up what a crash leaves in <c>incoming/</c>, when a spool is opened and now and then
    /// after. A sealed file (<see cref="MessageSeal"/>) may have been acknowledged: its commit
    /// synced it and may have said 250 before its rename into <c>ready/</c> was durable; it is
    /// recovered, never removed. Every other file there was never acknowledged and is removed
    /// once old; free slots (<see cref="IncomingSlots"/>) are left for the writer.
    /// </summary>
    internal static class SpoolCleanup
    {
        /// <summary>
        /// Moves every sealed message file in <c>incoming/</c> that no live writer holds into
        /// <c>ready/</c>, whatever its age, and syncs <c>ready/</c> if it moved any. A message
        /// already in a state directory (a rename whose two names a crash both kept) loses its
        /// name in <c>incoming/</c> instead. Files a writer holds, unsealed ones and ones whose
        /// bytes no longer hash to their seal are left for <see cref="RemoveIncomingDebris"/>.
        /// </summary>
        /// <returns>How many messages were moved into <c>ready/</c>.</returns>
        public static int RecoverSealed(string root, Action<string> syncDirectory)
        {
            var recovered = 0;
            foreach (var path in Directory.EnumerateFiles(Path.Combine(root, SpoolLayout.Incoming)))
            {
                var extension = Path.GetExtension(path);
                if (extension != SpoolLayout.TemporaryExtension && extension != IncomingSlots.Extension) continue;
                string id;
                try
                {
                    using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
                    {
                        if (file.Length == 0 || !MessageSeal.Holds(file, out var stated)) continue;
                        file.Position = 0;
                        id = MessageFile.ReadHeader(file, out _).Id;
                        if (file.Length > stated)
                        {
                            // A slot whose cut the crash undid: the message ends where its seal says.
                            file.SetLength(stated);
                            file.Flush(true);
                        }
                    }
                    if (SpoolDirectory.Locate(root, id) != null) File.Delete(path);
                    else
                    {
                        NoReplaceRename.Move(path, SpoolLayout.MessagePath(root, SpoolLayout.Ready, id));
                        recovered++;
                    }
                }
                catch (IOException) { }                 // in use by a writer, or gone already
                catch (UnauthorizedAccessException) { }
                catch (SpoolException) { }              // sealed, yet not a header we read: debris
            }
            if (recovered > 0) syncDirectory(Path.Combine(root, SpoolLayout.Ready));
            return recovered;
        }

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
                    // Only an old slot is opened to see whether it is free: most are young.
                    if (Path.GetExtension(path) == IncomingSlots.Extension && IncomingSlots.IsFree(path)) continue;
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
