using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// One flush of the disk's write cache shared by every message whose data was written out to
    /// the disk before it started: the group commit of message data. A message written over a
    /// preallocated slot (<see cref="IncomingSlots"/>) changes no metadata, so its own data sync
    /// is a write of its pages and then a cache flush; concurrent commits each write theirs out
    /// (<see cref="FileDataSync.WriteOut"/>) and wait for one data sync of a small anchor file,
    /// which ends with the cache flush that makes all of them durable (<see cref="GroupCommitter"/>
    /// groups the callers; at one session the caller runs it on its own thread).
    /// </summary>
    /// <remarks>
    /// <para>That a data sync of one file flushes the cache for data other files put on the disk
    /// before is what the file system's code does, not what POSIX promises. It holds for ext4
    /// (the journal commit starts with a cache flush) and XFS (<c>xfs_file_fsync</c> flushes the
    /// data device when the log force was not needed). The anchor is changed before each sync, so
    /// the sync always has data to write and cannot return early.</para>
    /// <para>The slot itself must be durable too: its length and where its blocks are. A refill
    /// makes that so for all its slots with one data sync of the last one, which commits the
    /// journal (ext4) or forces the log (XFS) that holds every earlier slot's allocation. ext4
    /// without a journal writes only that last slot's inode, so there a message written over
    /// another slot and followed by a cache flush alone could lose its file to a power failure.
    /// <see cref="For"/> therefore gives none for ext4 without a journal
    /// (<see cref="FileSystemJournal"/>), for any other file system, or where data cannot be
    /// written out alone (Windows, 32-bit): each message then syncs its own file, which writes
    /// its inode too.</para>
    /// <para>The anchor is <c>flush.anchor</c> in the spool root, one byte; nothing reads it.</para>
    /// </remarks>
    internal sealed class DeviceFlush
    {
        public const string AnchorName = "flush.anchor";

        const long Ext4Magic = 0xEF53, XfsMagic = 0x58465342;

        readonly string _anchor;
        readonly GroupCommitter _committer;
        readonly SpoolCounters _counters = new SpoolCounters();   // its own: these are not directory fsyncs
        byte _round;   // one flush at a time: the committer runs them in turn, For before any

        DeviceFlush(string anchor)
        {
            _anchor = anchor;
            _committer = new GroupCommitter(_ => FlushAnchor(), _counters);
        }

        /// <summary>A flush that runs <paramref name="flush"/> instead of syncing the anchor (tests).</summary>
        internal DeviceFlush(Action flush)
        {
            _anchor = AnchorName;
            _committer = new GroupCommitter(_ => flush(), _counters);
        }

        /// <summary>Flushes run, and commits that asked for one, since it was made.</summary>
        public long Flushes => _counters.DirectoryFsyncs;

        /// <inheritdoc cref="Flushes"/>
        public long Requests => _counters.DirectorySyncRequests;

        /// <summary>The shared flush for the spool at <paramref name="root"/>, or null where each
        /// message must sync its own file (see the remarks).</summary>
        public static DeviceFlush For(string root)
        {
            if (!FileDataSync.CanWriteOut || !HasOrderedMetadata(root)) return null;
            var flush = new DeviceFlush(Path.Combine(root, AnchorName));
            flush.FlushAnchor();   // creates it, and fails here, not in a commit, if it cannot
            return flush;
        }

        /// <summary>Completes after a cache flush that started after this call (the caller's data
        /// was written out before it); faults with that flush's exception.</summary>
        public Task AfterWriteOutAsync() => _committer.FlushAsync(_anchor);

        void FlushAnchor()
        {
            using (var file = new FileStream(_anchor, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1))
            {
                file.WriteByte(++_round);
                FileDataSync.Flush(file);
            }
        }

        // XFS always logs its metadata; ext4 only with a journal.
        static bool HasOrderedMetadata(string path)
        {
            var buffer = new byte[256];   // struct statfs is 120 bytes on 64-bit Linux; f_type first
            try
            {
                if (statfs(path, buffer) != 0) return false;
            }
            catch (EntryPointNotFoundException)
            {
                return false;
            }
            var type = BitConverter.ToInt64(buffer, 0);
            return type == XfsMagic || (type == Ext4Magic && FileSystemJournal.IsJournaledExt4(path));
        }

        [DllImport("libc", SetLastError = true)]
        static extern int statfs([MarshalAs(UnmanagedType.LPStr)] string path, byte[] buffer);
    }
}
