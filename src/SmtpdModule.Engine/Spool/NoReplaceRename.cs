using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// <see cref="File.Move(string, string)"/> for the spool's hot paths: renames a file, never
    /// over an existing one. On Linux it is one <c>renameat2(RENAME_NOREPLACE)</c>, where the
    /// runtime's File.Move checks both names with three <c>lstat</c> calls first (three of every
    /// four system calls a rename costs); elsewhere, or where the kernel or file system does not
    /// know the flag, it is File.Move.
    /// </summary>
    /// <remarks>The exceptions are File.Move's: <see cref="FileNotFoundException"/> when the
    /// source is gone, <see cref="UnauthorizedAccessException"/> when refused, otherwise
    /// <see cref="IOException"/> with the errno as its HResult (as the runtime's own).</remarks>
    internal static class NoReplaceRename
    {
        const int AT_FDCWD = -100;
        const uint RENAME_NOREPLACE = 1;
        const int ENOENT = 2, EINTR = 4, EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSYS = 38, EPERM = 1;

        static volatile bool _unsupported = !RuntimeInformation.IsOSPlatform(OSPlatform.Linux);

        public static void Move(string source, string destination)
        {
            if (_unsupported)
            {
                File.Move(source, destination);
                return;
            }
            int rc, errno;
            try
            {
                var from = DirectorySync.NativePath(source);
                var to = DirectorySync.NativePath(destination);
                do
                {
                    rc = renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
                    errno = rc < 0 ? Marshal.GetLastWin32Error() : 0;
                }
                while (rc < 0 && errno == EINTR);
            }
            catch (EntryPointNotFoundException)
            {
                // A C library older than glibc 2.28, or another one.
                _unsupported = true;
                File.Move(source, destination);
                return;
            }
            if (rc == 0) return;
            switch (errno)
            {
                case EINVAL:
                case ENOSYS:
                    // The kernel or this file system does not know RENAME_NOREPLACE.
                    _unsupported = true;
                    File.Move(source, destination);
                    return;
                case ENOENT:
                    throw new FileNotFoundException("rename " + source + " to " + destination + ": no such file", source);
                case EACCES:
                case EPERM:
                    throw new UnauthorizedAccessException("rename " + source + " to " + destination + ": access denied");
                case EEXIST:
                    throw new IOException("rename " + source + " to " + destination + ": the destination exists", errno);
                default:
                    throw new IOException("rename " + source + " to " + destination + ": errno " + errno, errno);
            }
        }

        [DllImport("libc", SetLastError = true)]
        static extern int renameat2(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, uint flags);
    }
}
