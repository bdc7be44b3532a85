using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Whether the ext4 file system holding a path keeps a journal (Linux). Asked by
    /// <see cref="DeviceFlush"/>: a slot refill makes the allocations of all its new slots durable
    /// with one data sync of the last one (<see cref="IncomingSlots"/>), which only a journal
    /// commit does. Without a journal that sync writes the last slot's inode alone, and a message
    /// written over another slot and followed only by a cache flush could lose its file to a power
    /// failure, so such a spool syncs each message's own file instead.
    /// </summary>
    /// <remarks>The mount comes from <c>/proc/self/mountinfo</c> (the longest mount point over the
    /// path, symlinks resolved), its device's kernel name from <c>/sys/dev/block/MAJ:MIN/uevent</c>,
    /// and the journal from jbd2's entry <c>/proc/fs/jbd2/NAME-INODE</c>, which exists for every
    /// journal inside a mounted file system. Anything that cannot be read answers false: the
    /// caller then takes the path that is safe everywhere. An external journal device is not
    /// recognised, with the same result.</remarks>
    internal static class FileSystemJournal
    {
        /// <summary>True when <paramref name="path"/> is on ext3 or ext4 with an internal journal.</summary>
        public static bool IsJournaledExt4(string path)
        {
            try
            {
                var mount = MountInfo.Find(File.ReadAllText("/proc/self/mountinfo"), RealPath(path));
                if (mount == null || (mount.FileSystem != "ext4" && mount.FileSystem != "ext3")) return false;
                var name = DeviceName(File.ReadAllText("/sys/dev/block/" + mount.Device + "/uevent"));
                return name != null && HasJournal(name, Directory.EnumerateDirectories("/proc/fs/jbd2").Select(Path.GetFileName));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is EntryPointNotFoundException || ex is DllNotFoundException)
            {
                return false;
            }
        }

        /// <summary>The kernel's name of a block device from its <c>uevent</c> text (<c>DEVNAME=</c>).</summary>
        internal static string DeviceName(string uevent)
        {
            foreach (var line in uevent.Split('\n'))
                if (line.StartsWith("DEVNAME=", StringComparison.Ordinal)) return line.Substring("DEVNAME=".Length).Trim();
            return null;
        }

        /// <summary>Whether jbd2's entries (<c>NAME-INODE</c>) include one for the device <paramref name="name"/>.</summary>
        internal static bool HasJournal(string name, IEnumerable<string> jbd2Entries) =>
            jbd2Entries.Any(e => e.StartsWith(name + "-", StringComparison.Ordinal)
                                 && e.Length > name.Length + 1
                                 && e.Skip(name.Length + 1).All(char.IsDigit));

        // The path with every symlink resolved, as the kernel will follow it; the path itself where
        // it cannot be resolved (the lookup then names the mount the path's text is under).
        static string RealPath(string path)
        {
            var resolved = realpath(path, IntPtr.Zero);
            if (resolved == IntPtr.Zero) return Path.GetFullPath(path);
            try { return Marshal.PtrToStringAnsi(resolved); }
            finally { free(resolved); }
        }

        [DllImport("libc", SetLastError = true)]
        static extern IntPtr realpath([MarshalAs(UnmanagedType.LPStr)] string path, IntPtr resolved);

        [DllImport("libc")]
        static extern void free(IntPtr pointer);
    }
}
