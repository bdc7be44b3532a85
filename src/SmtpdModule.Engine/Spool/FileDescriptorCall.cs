using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>A C library call on a <see cref="FileStream"/>'s descriptor (Unix): the handle held
    /// for the call's length, so a concurrent close cannot hand the number to another file, and
    /// the call made again after EINTR.</summary>
    internal static class FileDescriptorCall
    {
        const int EINTR = 4;

        /// <summary>Runs <paramref name="call"/> on the descriptor; returns 0 when it returned 0,
        /// else its errno (-1 if it failed without one).</summary>
        /// <exception cref="EntryPointNotFoundException">The C library has no such function.</exception>
        public static int Run(FileStream file, Func<int, int> call)
        {
            var handle = file.SafeFileHandle;
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var fd = handle.DangerousGetHandle().ToInt32();
                int rc, errno;
                do
                {
                    rc = call(fd);
                    errno = rc < 0 ? Marshal.GetLastWin32Error() : 0;
                }
                while (rc < 0 && errno == EINTR);
                return rc == 0 ? 0 : errno != 0 ? errno : -1;
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }
    }
}
