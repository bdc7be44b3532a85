using System;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The claim on a slot (<see cref="IncomingSlots"/>) that a writer holds while the slot is in
    /// its pool and while a message is written into it: a <c>flock</c> on the open file, taken
    /// exclusive, which succeeds only if no one else holds any lock on the slot, and then held
    /// shared. Every claimant asks for it exclusive (writers here, and the debris sweep and the
    /// recovery, which open <see cref="FileShare.None"/>), so none can take a held slot; a plain
    /// reader, such as a copy of the spool for a backup, asks for it shared and can still read.
    /// The claim ends by itself when the holder closes the file or dies.
    /// </summary>
    /// <remarks>The runtime takes an exclusive flock when a file is opened with
    /// <see cref="FileShare.None"/>, unless file locking is switched off by configuration
    /// (<c>System.IO.DisableFileLocking</c>); this one is taken whatever that switch says, because
    /// two writers holding one slot would write two messages into one file. On one open file the
    /// runtime's lock and this one are the same lock.</remarks>
    internal static class SlotLock
    {
        const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4;

        /// <summary>Claims the slot; false when someone else holds a lock on it.</summary>
        /// <exception cref="IOException">flock failed for another reason (not a lock held elsewhere).</exception>
        public static bool TryTake(FileStream file) =>
            // flock converts a lock by dropping it first: a claimant that takes the slot between
            // the two calls makes the second fail, and this writer gives the slot up.
            Lock(file, LOCK_EX) && Lock(file, LOCK_SH);

        static bool Lock(FileStream file, int operation)
        {
            var errno = FileDescriptorCall.Run(file, fd => flock(fd, operation | LOCK_NB));
            if (errno == 0) return true;
            if (errno == EWouldBlock) return false;
            throw new IOException("flock " + file.Name + ": errno " + errno, errno);
        }

        // EWOULDBLOCK is EAGAIN: 11 on Linux, 35 on macOS and the BSDs.
        static readonly int EWouldBlock = RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? 11 : 35;

        [DllImport("libc", SetLastError = true)]
        static extern int flock(int fd, int operation);
    }
}
