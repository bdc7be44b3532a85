using System;
using System.IO;

namespace SmtpdModule.Engine.Files
{
    /// <summary>A whole file as read at one moment, with the time stamp and length it was read at.</summary>
    public sealed class FileSnapshot
    {
        FileSnapshot(byte[] bytes, DateTime timeUtc, long length)
        {
            Bytes = bytes;
            TimeUtc = timeUtc;
            Length = length;
        }

        public byte[] Bytes { get; }
        public DateTime TimeUtc { get; }
        public long Length { get; }

        /// <summary>Reads <paramref name="path"/> whole, as <see cref="WatchedFile{T, TError}"/> expects: the
        /// stamp first, so an edit landing during the read leaves a stamp older than the content and the
        /// next check reads it again rather than missing it.</summary>
        /// <exception cref="Exception">What <see cref="IsReadError"/> names: the file cannot be read.</exception>
        public static FileSnapshot Read(string path)
        {
            var info = new FileInfo(path);
            var time = info.LastWriteTimeUtc;
            var length = info.Length;
            // FileShare.ReadWrite|Delete: an editor saving at the same moment must not fail either side.
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var copy = new MemoryStream())
            {
                stream.CopyTo(copy);
                return new FileSnapshot(copy.ToArray(), time, length);
            }
        }

        /// <summary>The exceptions <see cref="Read"/> throws for a file that cannot be read.</summary>
        public static bool IsReadError(Exception ex) =>
            ex is IOException || ex is UnauthorizedAccessException || ex is NotSupportedException || ex is System.Security.SecurityException;
    }
}
