using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Makes a file's bytes durable, and of its metadata only what reading them back needs (its
    /// length, where its blocks are): <c>fdatasync</c> on Linux, the runtime's
    /// <c>Flush(true)</c> (fsync, FlushFileBuffers) elsewhere. A file overwritten within blocks
    /// that were already allocated and synced (a preallocated slot, <see cref="IncomingSlots"/>)
    /// then costs one data write and a cache flush instead of a journal commit; a file that grew
    /// gets the commit it needs either way.
    /// </summary>
    internal static class FileDataSync
    {
        const int EINVAL = 22, ESPIPE = 29, ENOSYS = 38;
        const uint SYNC_FILE_RANGE_WAIT_BEFORE = 1, SYNC_FILE_RANGE_WRITE = 2, SYNC_FILE_RANGE_WAIT_AFTER = 4;

        static readonly bool Linux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
        // Set once, read without a barrier: a thread that sees one late only tries once more.
        static bool _noDataSync = !Linux;
        // sync_file_range's 64-bit offsets are passed as one argument only on 64-bit ABIs.
        static bool _noWriteOut = !Linux || IntPtr.Size != 8;

        /// <exception cref="IOException">The sync failed (the errno as HResult).</exception>
        public static void Flush(FileStream file)
        {
            file.Flush(false);   // anything the stream buffers, into the file first
            if (!_noDataSync && Call(file, "fdatasync", fd => fdatasync(fd), ref _noDataSync)) return;
            file.Flush(true);
        }

        /// <summary>False where <see cref="WriteOut"/> falls back to a full sync (not Linux, a 32-bit
        /// process, or a kernel without sync_file_range).</summary>
        public static bool CanWriteOut => !_noWriteOut;

        /// <summary>
        /// Writes a newly written file's bytes out to the disk and waits, so that its blocks are
        /// allocated now, without a journal commit of its own: the next one (a directory fsync, a
        /// data sync that needs one, the file system's periodic commit) makes the allocation
        /// durable, for many files at once. Linux's <c>sync_file_range</c>; elsewhere a full sync.
        /// Only ever a speed-up: nothing's durability depends on it.
        /// </summary>
        /// <exception cref="IOException">The write-out failed.</exception>
        public static void WriteOut(FileStream file)
        {
            file.Flush(false);
            const uint flags = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
            if (!_noWriteOut && Call(file, "sync_file_range", fd => sync_file_range(fd, 0, 0, flags), ref _noWriteOut)) return;
            file.Flush(true);
        }

        // Runs the call on the file's descriptor (FileDescriptorCall). False when this system
        // cannot do it (then the caller falls back to a full sync; a missing call is remembered).
        static bool Call(FileStream file, string name, Func<int, int> call, ref bool unsupported)
        {
            int errno;
            try
            {
                errno = FileDescriptorCall.Run(file, call);
            }
            catch (EntryPointNotFoundException)
            {
                unsupported = true;
                return false;
            }
            if (errno == 0) return true;
            if (errno == ENOSYS) unsupported = true;
            // A kernel, file system or file that cannot do it: the full sync serves.
            if (errno == EINVAL || errno == ENOSYS || errno == ESPIPE) return false;
            throw new IOException(name + ": errno " + errno, errno);
        }

        [DllImport("libc", SetLastError = true)]
        static extern int fdatasync(int fd);

        [DllImport("libc", SetLastError = true)]
        static extern int sync_file_range(int fd, long offset, long nbytes, uint flags);
    }
}
