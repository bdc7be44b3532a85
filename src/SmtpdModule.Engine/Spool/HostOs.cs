using System.Runtime.InteropServices;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>The operating-system families whose file APIs the spool treats differently.
    /// A value rather than scattered checks, so the error mapping can be tested for all three on
    /// any machine.</summary>
    internal enum HostOs
    {
        Linux,
        /// <summary>macOS and the BSDs: Unix, with BSD errno numbers.</summary>
        OtherUnix,
        Windows,
    }

    internal static class HostOsInfo
    {
        public static HostOs Current { get; } =
            RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? HostOs.Windows
            : RuntimeInformation.IsOSPlatform(OSPlatform.Linux) ? HostOs.Linux
            : HostOs.OtherUnix;

        public static bool IsWindows => Current == HostOs.Windows;
    }
}
