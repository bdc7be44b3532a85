using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Copies spooled messages out of the spool, bytes exactly as spooled (our Received: header
    /// first, then what the client sent): to <c>&lt;id&gt;.eml</c> in a folder, or to one named
    /// file. The spool is not changed. One instance is one export: it remembers the files it wrote,
    /// so two messages never go into one file, even with overwriting allowed.
    /// </summary>
    /// <remarks>
    /// The id is checked by the spool (opening the message) before it becomes part of a file name.
    /// Without overwrite the file is created with CreateNew, so a file that appears between the
    /// check and the write is not overwritten either. A write that fails deletes what it made:
    /// half a message is worse than none.
    /// </remarks>
    public sealed class SpoolExport
    {
        /// <summary>What an exported message's file is called in a destination folder.</summary>
        public const string Extension = ".eml";

        readonly HashSet<string> _written = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        /// <summary>
        /// An export to <paramref name="destination"/>: an existing folder, a name ending in a
        /// separator (a folder), or the file to write. The folder that would hold the files must
        /// exist: a missing one is not made, since a typo would scatter mail.
        /// </summary>
        /// <param name="destination">A full file-system path (the caller resolves the user's path).</param>
        /// <param name="overwrite">Replace existing files.</param>
        /// <exception cref="ArgumentException"><paramref name="destination"/> is null or empty.</exception>
        /// <exception cref="SpoolExportException"><see cref="SpoolExportFailure.FolderNotFound"/>: the folder is missing or is a file.</exception>
        public SpoolExport(string destination, bool overwrite)
        {
            if (string.IsNullOrEmpty(destination)) throw new ArgumentException("A destination is required.", nameof(destination));
            Destination = destination;
            Overwrite = overwrite;
            // Checked once, before any message: otherwise each one fails with "Could not find a
            // part of the path".
            var folder = EndsInSeparator(destination) ? destination : System.IO.Path.GetDirectoryName(destination);
            if (!Directory.Exists(destination) && !string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
                throw new SpoolExportException(folder, SpoolExportFailure.FolderNotFound);
        }

        public string Destination { get; }

        public bool Overwrite { get; }

        /// <summary>
        /// The file the message <paramref name="id"/> goes to: <c>&lt;id&gt;.eml</c> in a folder,
        /// otherwise the destination itself. A name ending in a separator means a folder, even one
        /// that does not exist (the write then says so). Only for ids the spool has accepted.
        /// </summary>
        public string FileFor(string id)
        {
            var isFolder = Directory.Exists(Destination) || EndsInSeparator(Destination);
            return isFolder ? System.IO.Path.Combine(Destination, id + Extension) : Destination;
        }

        /// <summary>
        /// Writes the message <paramref name="id"/> of <paramref name="spool"/> to its file, once
        /// <paramref name="confirm"/> (given the file) agrees.
        /// </summary>
        /// <returns>The file written; null when <paramref name="confirm"/> declined.</returns>
        /// <exception cref="SpoolException">The spool has no such message (a malformed id included), or cannot read it.</exception>
        /// <exception cref="SpoolExportException"><see cref="SpoolExportFailure.AlreadyWritten"/>,
        /// <see cref="SpoolExportFailure.Exists"/> (without overwrite) or <see cref="SpoolExportFailure.Unwritable"/>.</exception>
        public string Export(SpoolQueue spool, string id, Func<string, bool> confirm = null)
        {
            if (spool == null) throw new ArgumentNullException(nameof(spool));
            using (var message = spool.OpenMessage(id))
            {
                var file = FileFor(id);
                if (_written.Contains(file)) throw new SpoolExportException(file, SpoolExportFailure.AlreadyWritten);
                if (!Overwrite && File.Exists(file)) throw new SpoolExportException(file, SpoolExportFailure.Exists);
                if (confirm != null && !confirm(file)) return null;
                Write(message, file);
                return file;
            }
        }

        void Write(Stream message, string file)
        {
            var created = false;
            try
            {
                using (var output = new FileStream(file, Overwrite ? FileMode.Create : FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    created = true;
                    message.CopyTo(output);
                }
                _written.Add(file);
            }
            catch (IOException ex) when (!created && !Overwrite && File.Exists(file))
            {
                throw new SpoolExportException(file, SpoolExportFailure.Exists, ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                if (created) TryDelete(file);
                throw new SpoolExportException(file, SpoolExportFailure.Unwritable, ex);
            }
        }

        static bool EndsInSeparator(string path)
        {
            var last = path[path.Length - 1];
            return last == System.IO.Path.DirectorySeparatorChar || last == System.IO.Path.AltDirectorySeparatorChar;
        }

        static void TryDelete(string file)
        {
            try { File.Delete(file); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
        }
    }
}
