using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>Removing spool files where a failure has nothing better to do than leave the file
    /// for a later sweep.</summary>
    internal static class FileRemoval
    {
        /// <summary>Deletes <paramref name="path"/>, ignoring file errors.</summary>
        public static void DeleteQuietly(string path)
        {
            try { File.Delete(path); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>
        /// Removes a message file that was never acknowledged. Where it cannot be removed (a
        /// directory made read-only or immutable under us), it is emptied instead: a sealed file
        /// left in <c>incoming/</c> would be recovered into <c>ready/</c> and delivered beside the
        /// client's retry, and an empty slot is simply free again. Ignores file errors.
        /// </summary>
        public static void DeleteOrEmpty(string path)
        {
            try
            {
                File.Delete(path);
                return;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, 1)) file.SetLength(0);
            }
            catch (IOException) { }                 // gone, or held: debris for the sweep
            catch (UnauthorizedAccessException) { }
        }
    }
}
