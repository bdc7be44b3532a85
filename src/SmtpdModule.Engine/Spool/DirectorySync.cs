using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Makes the entries of a directory durable: after a rename into it, the new name survives a
    /// power loss only once the directory itself has been synced. On Linux, macOS and the BSDs that
    /// is <c>open(dir, O_RDONLY|O_DIRECTORY)</c>, <c>fsync</c>, <c>close</c> (POSIX leaves
    /// directory fsync to the file system; ext4, XFS, Btrfs and APFS honour it).
    /// </summary>
    /// <remarks>
    /// On Windows there is no portable way to open a directory for flushing; the spool renames with
    /// <c>MoveFileEx(MOVEFILE_WRITE_THROUGH)</c> instead and this is a no-op.
    /// </remarks>
    internal static class DirectorySync
    {
        const int EINTR = 4;
        const int EINVAL = 22;

        /// <summary>Flushes <paramref name="directory"/>'s entries to stable storage.</summary>
        /// <exception cref="IOException">open or fsync failed; <see cref="System.Exception.HResult"/>
        /// is the errno, as in the runtime's own Unix I/O exceptions.</exception>
        public static void Flush(string directory)
        {
            if (HostOsInfo.IsWindows) return;

            var path = NativePath(directory);
            int fd;
            do fd = open(path, O_RDONLY | ODirectory);
            while (fd < 0 && Marshal.GetLastWin32Error() == EINTR);
            if (fd < 0) throw Failure("open", directory, Marshal.GetLastWin32Error());
            try
            {
                int rc, errno = 0;
                do
                {
                    rc = fsync(fd);
                    if (rc < 0) errno = Marshal.GetLastWin32Error();
                }
                while (rc < 0 && errno == EINTR);
                // Some file systems (certain FUSE and network ones) cannot sync a directory and say
                // EINVAL; there is nothing more we could do for them, and refusing all mail would
                // not make it safer.
                if (rc < 0 && errno != EINVAL) throw Failure("fsync", directory, errno);
            }
            finally
            {
                close(fd);
            }
        }

        const int O_RDONLY = 0;

        // O_DIRECTORY only makes open fail on a non-directory. Its value differs between platforms
        // and architectures; where it is not known here it is left out, which is equally correct
        // for a path we created as a directory.
        static readonly int ODirectory = DirectoryFlag();

        static int DirectoryFlag()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.OSX)) return 0x100000;
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux)) return 0;
            switch (RuntimeInformation.ProcessArchitecture)
            {
                case Architecture.X64:
                case Architecture.X86: return 0x10000;   // 0200000
                case Architecture.Arm:
                case Architecture.Arm64: return 0x4000;  // 040000
                default: return 0;
            }
        }

        // File names are bytes on Unix; the runtime's own calls pass them as UTF-8, and so do we
        // (netstandard2.0 has no UnmanagedType.LPUTF8Str).
        internal static byte[] NativePath(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");

        static IOException Failure(string call, string directory, int errno) =>
            new IOException(call + " " + directory + ": errno " + errno, errno);

        // "libc" is resolved by the runtime to the C library of the platform (libc.so.6, musl,
        // libSystem); the functions are plain POSIX.
        [DllImport("libc", SetLastError = true)]
        static extern int open(byte[] path, int flags);

        [DllImport("libc", SetLastError = true)]
        static extern int fsync(int fd);

        [DllImport("libc", SetLastError = true)]
        static extern int close(int fd);
    }
}
