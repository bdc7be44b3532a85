using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Turns a failure of the file system into a <see cref="SpoolErrorReason"/>. The point is
    /// <see cref="SpoolErrorReason.Full"/>: the SMTP layer answers it with <c>452 4.3.1</c>
    /// (RFC 3463 "mail system full") rather than a generic temporary failure.
    /// </summary>
    internal static class SpoolErrors
    {
        public static SpoolErrorReason ReasonFor(Exception ex) => ReasonFor(ex, HostOsInfo.Current);

        public static SpoolErrorReason ReasonFor(Exception ex, HostOs os)
        {
            switch (ex)
            {
                case SpoolException spool: return spool.Reason;
                case IOException io when IsDiskFull(io.HResult, os): return SpoolErrorReason.Full;
                default: return SpoolErrorReason.Io;
            }
        }

        /// <summary>
        /// The runtime reports Windows errors as HRESULTs (0x8007xxxx) and, on Unix, mostly the raw
        /// errno. The HRESULT forms are unambiguous anywhere; raw numbers only mean something on
        /// their own system (Linux's 112 is EHOSTDOWN, not ERROR_DISK_FULL), hence
        /// <paramref name="os"/>.
        /// </summary>
        internal static bool IsDiskFull(int hresult, HostOs os)
        {
            const int ERROR_HANDLE_DISK_FULL = 0x27, ERROR_DISK_FULL = 0x70, ERROR_DISK_QUOTA_EXCEEDED = 0x50F;
            const int ENOSPC = 28, EDQUOT_LINUX = 122, EDQUOT_BSD = 69;

            if ((hresult & unchecked((int)0xFFFF0000)) == unchecked((int)0x80070000))
            {
                var code = hresult & 0xFFFF;
                return code == ERROR_DISK_FULL || code == ERROR_HANDLE_DISK_FULL || code == ERROR_DISK_QUOTA_EXCEEDED;
            }
            switch (os)
            {
                case HostOs.Windows:
                    return hresult == ERROR_DISK_FULL || hresult == ERROR_HANDLE_DISK_FULL || hresult == ERROR_DISK_QUOTA_EXCEEDED;
                case HostOs.Linux:
                    return hresult == ENOSPC || hresult == EDQUOT_LINUX;
                default:
                    return hresult == ENOSPC || hresult == EDQUOT_BSD;
            }
        }

        /// <summary>Wraps anything but a <see cref="SpoolException"/> (which passes with the id
        /// filled in).</summary>
        public static SpoolException Wrap(string id, Exception ex) =>
            ex is SpoolException spool ? spool.WithId(id ?? spool.Id) : new SpoolException(id, ReasonFor(ex), ex);
    }
}
