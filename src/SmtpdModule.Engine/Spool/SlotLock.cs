using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The claim on a slot (<see cref="IncomingSlots"/>) that a writer holds while the slot is in
    /// its pool and while a message is written into it: an exclusive, non-blocking <c>flock</c>
    /// on the open file. Another process, or another writer in this one, cannot take the slot
    /// while it is held, and the claim ends by itself when the holder closes the file or dies.
    /// </summary>
    /// <remarks>The runtime takes the same lock when a file is opened with
    /// <see cref="FileShare.None"/>, unless file locking is switched off by configuration
    /// (<c>System.IO.DisableFileLocking</c>); this one is taken whatever that switch says, because
    /// two writers holding one slot would write two messages into one file. On the same open file
    /// the two are one lock, so taking it again is harmless.</remarks>
    internal static class SlotLock
    {
        const int LOCK_EX = 2, LOCK_NB = 4, EINTR = 4;

        /// <summary>Takes the lock; false when someone else holds it.</summary>
        /// <exception cref="IOException">flock failed for another reason (not a lock held elsewhere).</exception>
        public static bool TryTake(FileStream file)
        {
            var handle = file.SafeFileHandle;
            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                int rc, errno;
                do
                {
                    rc = flock(handle.DangerousGetHandle().ToInt32(), LOCK_EX | LOCK_NB);
                    errno = rc < 0 ? Marshal.GetLastWin32Error() : 0;
                }
                while (rc < 0 && errno == EINTR);
                if (rc == 0) return true;
                if (errno == EWouldBlock) return false;
                throw new IOException("flock " + file.Name + ": errno " + errno, errno);
            }
            finally
            {
                if (added) handle.DangerousRelease();
            }
        }

        // EWOULDBLOCK is EAGAIN: 11 on Linux, 35 on macOS and the BSDs.
        static readonly int EWouldBlock = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35;

        [DllImport("libc", SetLastError = true)]
        static extern int flock(int fd, int operation);
    }
}
