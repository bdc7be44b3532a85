using System;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Reads and replaces <c>status/&lt;id&gt;.status</c>. The status lives apart from the message
    /// file so the message is never rewritten and a state change stays a single rename; the status
    /// is replaced whole (written beside, synced, renamed over the old one), so a reader sees the
    /// old record or the new one, never half of one.
    /// </summary>
    /// <remarks>
    /// Writing is durable before it returns (file fsync, rename, directory fsync on Unix;
    /// write-through on Windows): the forwarder writes "delivered" here before it lets go of a
    /// message, and a recipient recorded as delivered must never be sent again, power loss
    /// included.
    /// </remarks>
    internal static class DeliveryStatusFile
    {
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);
        const int MaxBytes = 4 * 1024 * 1024;

        /// <summary>The status of message <paramref name="id"/>, or null when it has none.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.Corrupt"/> or <see cref="SpoolErrorReason.Io"/>.</exception>
        public static DeliveryStatus Read(string root, string id)
        {
            var path = SpoolLayout.StatusPath(root, id);
            // Most messages have never been tried: a stat is much cheaper than a failed open's exception.
            if (!File.Exists(path)) return null;
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096))
                {
                    if (file.Length > MaxBytes) throw new SpoolException(id, SpoolErrorReason.Corrupt);
                    using (var reader = new StreamReader(file, Utf8, false))
                        return DeliveryStatusSerializer.Read(reader);
                }
            }
            catch (SpoolException ex) { throw ex.WithId(id); }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException) { return null; }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(id, ex); }
        }

        /// <summary>Replaces the status of message <paramref name="id"/>, durably.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.Io"/> or <see cref="SpoolErrorReason.Full"/>;
        /// the old status is then still in place.</exception>
        public static void Write(string root, string id, DeliveryStatus status)
        {
            var path = SpoolLayout.StatusPath(root, id);
            var temp = path + ".new";
            try
            {
                using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096))
                {
                    using (var writer = new StreamWriter(file, Utf8, 4096, leaveOpen: true))
                        DeliveryStatusSerializer.Write(writer, status);
                    file.Flush(flushToDisk: true);
                }
                Replace(temp, path);
                DirectorySync.Flush(Path.Combine(root, SpoolLayout.Status));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                FileRemoval.DeleteQuietly(temp);
                throw SpoolErrors.Wrap(id, ex);
            }
        }

        /// <summary>Deletes the status of message <paramref name="id"/>, if any; never throws for file errors
        /// (a status left without its message is removed by <see cref="SpoolLease.RecoverAbandoned()"/>).</summary>
        public static void Delete(string root, string id) => FileRemoval.DeleteQuietly(SpoolLayout.StatusPath(root, id));

        // File.Replace is rename(2) on Unix and ReplaceFile on Windows: atomic within a volume.
        // It needs an existing destination; the first status of a message has none.
        static void Replace(string temp, string path)
        {
            if (File.Exists(path))
            {
                try
                {
                    File.Replace(temp, path, null);
                    return;
                }
                catch (FileNotFoundException) when (File.Exists(temp))
                {
                    // The old status went away meanwhile (the message was removed): a plain move will do.
                }
            }
            File.Move(temp, path);
        }
    }
}
