using System;
using System.ComponentModel;
using System.IO;
using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The Windows calls the spool and the state store need and .NET does not expose: a rename that
    /// returns only once it is on disk, and free space for any directory (UNC shares included).
    /// </summary>
    internal static class WindowsFileApi
    {
        const uint MOVEFILE_REPLACE_EXISTING = 0x1;
        const uint MOVEFILE_WRITE_THROUGH = 0x8;

        /// <summary>Renames without replacing, write-through.</summary>
        /// <exception cref="IOException">MoveFileEx failed; HResult is the Win32 error as an
        /// HRESULT (0x8007xxxx), as in the runtime's own exceptions.</exception>
        public static void MoveWriteThrough(string source, string destination)
        {
            if (!MoveFileEx(Extended(source), Extended(destination), MOVEFILE_WRITE_THROUGH))
                throw Failure(Marshal.GetLastWin32Error(), source);
        }

        /// <summary>Renames over an existing file, write-through: one rename on NTFS, so the
        /// destination names the old file or the new one, never neither (unlike ReplaceFile).</summary>
        /// <exception cref="IOException">MoveFileEx failed; HResult as for <see cref="MoveWriteThrough"/>.</exception>
        public static void ReplaceWriteThrough(string source, string destination)
        {
            if (!MoveFileEx(Extended(source), Extended(destination), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
                throw Failure(Marshal.GetLastWin32Error(), source);
        }

        /// <summary>Bytes available to this user on the volume holding <paramref name="directory"/>
        /// (quotas included).</summary>
        /// <exception cref="IOException">GetDiskFreeSpaceEx failed.</exception>
        public static long FreeBytes(string directory)
        {
            if (!GetDiskFreeSpaceEx(Extended(directory), out var available, out _, out _))
                throw Failure(Marshal.GetLastWin32Error(), directory);
            return available > long.MaxValue ? long.MaxValue : (long)available;
        }

        /// <summary>Win32 error codes that are often transient on a spool: an antivirus or indexer
        /// has the file open for a moment.</summary>
        public static bool IsTransientSharingError(Exception ex)
        {
            var code = ex.HResult & 0xFFFF;
            return (ex.HResult & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000)
                   && (code == 5 || code == 32 || code == 33);   // ACCESS_DENIED, SHARING_VIOLATION, LOCK_VIOLATION
        }

        static IOException Failure(int error, string path)
        {
            var hresult = unchecked((int)0x80070000) | (error & 0xFFFF);
            return new IOException(path + ": " + new Win32Exception(error).Message, hresult);
        }

        // The runtime's own APIs accept long paths; a raw Win32 call needs the \\?\ prefix for them.
        static string Extended(string path)
        {
            path = Path.GetFullPath(path);
            if (path.Length < 248 || path.StartsWith(@"\\?\", StringComparison.Ordinal)) return path;
            return path.StartsWith(@"\\", StringComparison.Ordinal) ? @"\\?\UNC\" + path.Substring(2) : @"\\?\" + path;
        }

        [DllImport("kernel32.dll", EntryPoint = "MoveFileExW", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        static extern bool MoveFileEx(string existingFileName, string newFileName, uint flags);

        [DllImport("kernel32.dll", EntryPoint = "GetDiskFreeSpaceExW", CharSet = CharSet.Unicode, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        static extern bool GetDiskFreeSpaceEx(string directoryName, out ulong freeBytesAvailable,
            out ulong totalNumberOfBytes, out ulong totalNumberOfFreeBytes);
    }
}
