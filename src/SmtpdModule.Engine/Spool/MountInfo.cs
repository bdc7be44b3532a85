using System;
using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>One line of <c>/proc/self/mountinfo</c>: where, what file system, which device.</summary>
    internal sealed class MountInfo
    {
        MountInfo(string mountPoint, string fileSystem, string device)
        {
            MountPoint = mountPoint;
            FileSystem = fileSystem;
            Device = device;
        }

        public string MountPoint { get; }
        public string FileSystem { get; }

        /// <summary><c>MAJOR:MINOR</c>.</summary>
        public string Device { get; }

        /// <summary>The mount that <paramref name="path"/> (absolute, resolved) is on: of the
        /// mounts still visible, the one with the longest mount point over it; null if the text
        /// names none. The text lists mounts in the order they were made, and a mount hides every
        /// earlier one on its mount point or below it.</summary>
        public static MountInfo Find(string mountinfo, string path)
        {
            var visible = new List<MountInfo>();
            foreach (var line in mountinfo.Split('\n'))
            {
                var mount = Parse(line);
                if (mount == null) continue;
                visible.RemoveAll(m => Contains(mount.MountPoint, m.MountPoint));
                visible.Add(mount);
            }
            MountInfo best = null;
            foreach (var mount in visible)
                if (Contains(mount.MountPoint, path) && (best == null || mount.MountPoint.Length > best.MountPoint.Length)) best = mount;
            return best;
        }

        // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue": the
        // fields before " - " are id, parent, MAJ:MIN, root, mount point, options, optional tags;
        // after it, the file system type, the source and the super block's options.
        static MountInfo Parse(string line)
        {
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0) return null;
            var before = line.Substring(0, dash).Split(' ');
            var after = line.Substring(dash + 3).Split(' ');
            if (before.Length < 6 || after.Length < 1) return null;
            return new MountInfo(Unescape(before[4]), after[0], before[2]);
        }

        static bool Contains(string mountPoint, string path) =>
            mountPoint == "/"
            || path == mountPoint
            || (path.StartsWith(mountPoint, StringComparison.Ordinal) && path[mountPoint.Length] == '/');

        // The kernel writes a space, tab, newline and backslash in a mount point as \040, \011,
        // \012 and \134.
        static string Unescape(string field)
        {
            if (field.IndexOf('\\') < 0) return field;
            var text = new StringBuilder(field.Length);
            for (var i = 0; i < field.Length; i++)
            {
                if (field[i] == '\\' && i + 3 < field.Length && IsOctal(field[i + 1]) && IsOctal(field[i + 2]) && IsOctal(field[i + 3]))
                {
                    text.Append((char)((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
                    i += 3;
                }
                else text.Append(field[i]);
            }
            return text.ToString();
        }

        static bool IsOctal(char c) => c >= '0' && c <= '7';
    }
}
