using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Keeps the spool private on Unix: its directories are made 0700 when created, whatever the
    /// umask. The original got the same from its umask of 077 (reference §5.1). Files are not
    /// changed one by one (a system call per message): inside 0700 directories nobody else can
    /// reach them, whatever their own mode. netstandard2.0 has no <c>File.SetUnixFileMode</c>, so
    /// this calls <c>chmod</c> directly.
    /// </summary>
    /// <remarks>On Windows nothing is changed: files and directories inherit the ACL of the
    /// directory they are created in (see about_SmtpdSpool).</remarks>
    internal static class UnixPermissions
    {
        public const int PrivateDirectory = 0x1C0;  // 0700

        const int EINTR = 4;

        /// <exception cref="IOException">chmod failed; HResult is the errno.</exception>
        public static void Restrict(string path, int mode)
        {
            if (HostOsInfo.IsWindows) return;
            var native = DirectorySync.NativePath(path);
            int rc, errno = 0;
            do
            {
                rc = chmod(native, (uint)mode);
                if (rc < 0) errno = Marshal.GetLastWin32Error();
            }
            while (rc < 0 && errno == EINTR);
            if (rc < 0) throw new IOException("chmod " + path + ": errno " + errno, errno);
        }

        // mode_t is 32 bits on Linux and 16 on macOS; a small unsigned value passes correctly either way.
        [DllImport("libc", SetLastError = true)]
        static extern int chmod(byte[] path, uint mode);
    }
}
