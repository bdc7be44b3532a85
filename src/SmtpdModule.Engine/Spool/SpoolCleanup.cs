using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Removes what a crash leaves behind, when a spool is opened and now and then after. Everything removed here was
    /// never acknowledged: a message is acknowledged only after its envelope reached
    /// <c>ready/</c>, and neither kind of debris has an envelope in a state directory.
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
        /// The age spares a commit whose files are closed and about to be renamed (they are
        /// unlocked for those few milliseconds). Without it nothing acknowledged would be at risk
        /// either (an incoming file never is, and a commit that loses one fails), but that commit's
        /// client would be told to retry for nothing. The same holds if file locking is switched
        /// off in the runtime, which it can be by configuration.
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

        /// <summary>
        /// Deletes <c>data/&lt;id&gt;.eml</c> files that have no envelope, neither in a state
        /// directory nor in <c>corrupt/</c> nor in the making in <c>incoming/</c>, and were last
        /// written more than <paramref name="minimumAge"/> ago.
        /// </summary>
        /// <remarks>
        /// Such a file comes from a crash between a commit's two renames. Why deleting it is safe:
        /// <list type="bullet">
        /// <item>A commit writes <c>incoming/&lt;id&gt;.env.tmp</c> before it renames the body into
        /// <c>data/</c>, and that file leaves <c>incoming/</c> only by its rename into
        /// <c>ready/</c> (or is deleted, failing the commit). So while a live commit's data file
        /// lacks a state-directory envelope, its envelope is in <c>incoming/</c>, and
        /// <c>incoming/</c> is looked at before the state directories: a rename between the two
        /// looks is caught by the second. If <see cref="RemoveIncomingDebris"/> took that envelope
        /// (it is unlocked between its close and its rename), the commit's own rename fails: the
        /// message is never acknowledged, whatever happens to its data.</item>
        /// <item>A committed message always has its envelope in exactly one envelope directory; it
        /// moves only by single renames. The directories are looked at twice, listed in one order
        /// and then probed by name in the reverse order, so one move during the look cannot hide it
        /// from both passes (it would have to leave a directory not yet looked at for one already
        /// looked at, in both orders).</item>
        /// <item>A message the forwarder has finished loses its envelope first, then its data: a
        /// data file without an envelope is then one the forwarder was about to delete anyway.</item>
        /// <item>The minimum age is a further margin, not the argument: a data file is written once
        /// and never touched again, so its time says when its commit began.</item>
        /// </list>
        /// </remarks>
        /// <returns>How many files were removed.</returns>
        public static int RemoveOrphanData(string root, TimeSpan minimumAge, DateTime utcNow)
        {
            var withEnvelope = new HashSet<string>(StringComparer.Ordinal);
            foreach (var path in Directory.EnumerateFiles(Path.Combine(root, SpoolLayout.Incoming)))
            {
                var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.EnvelopeExtension + SpoolLayout.TemporarySuffix);
                if (id != null) withEnvelope.Add(id);
            }
            foreach (var state in SpoolLayout.EnvelopeDirectories)
            {
                var directory = Path.Combine(root, state);
                if (!Directory.Exists(directory)) continue;
                foreach (var path in Directory.EnumerateFiles(directory))
                {
                    var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.EnvelopeExtension);
                    if (id != null) withEnvelope.Add(id);
                }
            }

            var removed = 0;
            foreach (var path in Directory.EnumerateFiles(Path.Combine(root, SpoolLayout.Data)))
            {
                var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.MessageExtension);
                if (id == null || withEnvelope.Contains(id)) continue;   // not ours by name, or in use
                DateTime written;
                try { written = File.GetLastWriteTimeUtc(path); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                if (utcNow - written < minimumAge) continue;
                if (HasEnvelope(root, id)) continue;
                SpoolWriter.DeleteQuietly(path);
                removed++;
            }
            return removed;
        }

        // The second look: incoming/ first again (its envelopes only move towards ready/), then the
        // envelope directories in the reverse of the listing order.
        static bool HasEnvelope(string root, string id)
        {
            if (File.Exists(SpoolLayout.IncomingEnvelopePath(root, id))) return true;
            for (var i = SpoolLayout.EnvelopeDirectories.Count - 1; i >= 0; i--)
                if (File.Exists(SpoolLayout.EnvelopePath(root, SpoolLayout.EnvelopeDirectories[i], id))) return true;
            return false;
        }
    }
}
