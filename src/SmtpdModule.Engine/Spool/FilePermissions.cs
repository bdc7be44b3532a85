using System;
using System.IO;
using System.Reflection;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Least privilege at start-up: who besides the proxy's own user may change the rules file or
    /// the spool. A rules file others can write lets them open the relay; a spool others can
    /// write lets them inject or remove mail that the forwarder then trusts. The proxy refuses
    /// both (<see cref="Smtp.ProxyStartFailure.RulesFileInsecure"/>,
    /// <see cref="Smtp.ProxyStartFailure.SpoolInsecure"/>) unless told otherwise.
    /// </summary>
    /// <remarks>
    /// <para><b>Unix.</b> A group or other write bit is refused, on the file and on every directory
    /// checked. A sticky bit is no excuse: in a sticky directory others still add files, and the
    /// spool and the rules' directory are no place for anybody else's files. The owner is not
    /// checked (only the mode). netstandard2.0 has no <c>File.GetUnixFileMode</c>; it is called
    /// through reflection where the runtime has it (.NET 7 and later, which is every PowerShell 7.4+),
    /// and on older runtimes the check is skipped (best effort).</para>
    /// <para><b>Windows</b> (best effort). The DACL is read as SDDL, through reflection
    /// (<c>File.GetAccessControl</c> on .NET Framework, <c>FileSystemAclExtensions</c> on .NET):
    /// netstandard2.0 has neither. An allow entry that gives Everyone, Users, Authenticated Users,
    /// Guests or Anonymous a write, delete, or permission-changing right is refused, as is a null
    /// DACL. Group membership and deny entries are not weighed. If the ACL cannot be read the check
    /// passes.</para>
    /// </remarks>
    internal static class FilePermissions
    {
        const int GroupWrite = 0x10, OtherWrite = 0x2;   // 020, 002

        /// <summary>Why <paramref name="path"/> (a file or a directory) can be changed by others,
        /// or null when it cannot, does not exist, or this platform cannot tell.</summary>
        public static string WhyInsecure(string path)
        {
            if (HostOsInfo.IsWindows)
            {
                var sddl = WindowsSddl(path);
                return sddl == null ? null : WhyInsecureSddl(sddl);
            }
            var mode = UnixMode(path);
            return mode == null ? null : WhyInsecureMode(mode.Value);
        }

        /// <summary>The Unix rule: no group or other write bit (see the class remarks).</summary>
        internal static string WhyInsecureMode(int mode)
        {
            if ((mode & (GroupWrite | OtherWrite)) == 0) return null;
            var who = (mode & GroupWrite) != 0 && (mode & OtherWrite) != 0 ? "its group and other users"
                    : (mode & GroupWrite) != 0 ? "its group" : "other users";
            return "mode " + Convert.ToString(mode & 0xFFF, 8).PadLeft(4, '0') + " lets " + who + " write it";
        }

        static readonly MethodInfo s_getUnixFileMode =
            typeof(File).GetMethod("GetUnixFileMode", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string) }, null);

        static int? UnixMode(string path)
        {
            if (s_getUnixFileMode == null || !(File.Exists(path) || Directory.Exists(path))) return null;
            try
            {
                return Convert.ToInt32(s_getUnixFileMode.Invoke(null, new object[] { path }));
            }
            catch (TargetInvocationException ex) when (ex.InnerException is IOException || ex.InnerException is UnauthorizedAccessException)
            {
                return null;   // gone or unreachable: the open that follows reports it properly
            }
        }

        // --- Windows ---------------------------------------------------------------------------

        // Well-known principals that stand for "other users": Everyone, Users, Authenticated
        // Users, Guests, Anonymous (SDDL aliases and their SIDs).
        static readonly string[] s_broadPrincipals =
        {
            "WD", "S-1-1-0", "BU", "S-1-5-32-545", "AU", "S-1-5-11", "BG", "S-1-5-32-546", "AN", "S-1-5-7",
        };

        // FILE_WRITE_DATA/ADD_FILE, FILE_APPEND_DATA/ADD_SUBDIRECTORY, FILE_DELETE_CHILD, DELETE,
        // WRITE_DAC, WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE.
        const int WriteRights = 0x2 | 0x4 | 0x40 | 0x10000 | 0x40000 | 0x80000 | 0x10000000 | 0x40000000;

        /// <summary>The Windows rule, on the DACL in SDDL form (pure, so it is tested on every platform).</summary>
        internal static string WhyInsecureSddl(string sddl)
        {
            var d = sddl.IndexOf("D:", StringComparison.Ordinal);
            if (d < 0) return null;   // no DACL section asked for or given: cannot tell
            var end = sddl.IndexOf("S:", d + 2, StringComparison.Ordinal);
            var dacl = end < 0 ? sddl.Substring(d + 2) : sddl.Substring(d + 2, end - d - 2);
            if (dacl.StartsWith("NO_ACCESS_CONTROL", StringComparison.Ordinal))
                return "it has no access control list: everyone may write it";
            var at = 0;
            while ((at = dacl.IndexOf('(', at)) >= 0)
            {
                var close = dacl.IndexOf(')', at);
                if (close < 0) break;
                var fields = dacl.Substring(at + 1, close - at - 1).Split(';');
                at = close + 1;
                if (fields.Length < 6 || (fields[0] != "A" && fields[0] != "OA")) continue;
                if (fields[1].Contains("IO")) continue;   // inherit-only: not about this object
                var sid = fields[5];
                if (Array.IndexOf(s_broadPrincipals, sid) < 0) continue;
                if ((Rights(fields[2]) & WriteRights) != 0)
                    return "its access control list lets " + PrincipalName(sid) + " write it (" + fields[2] + ")";
            }
            return null;
        }

        static string PrincipalName(string sid)
        {
            switch (sid)
            {
                case "WD": case "S-1-1-0": return "Everyone";
                case "BU": case "S-1-5-32-545": return "Users";
                case "AU": case "S-1-5-11": return "Authenticated Users";
                case "BG": case "S-1-5-32-546": return "Guests";
                default: return "Anonymous";
            }
        }

        static int Rights(string text)
        {
            if (text.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                try { return Convert.ToInt32(text.Substring(2), 16); }
                catch (FormatException) { return 0; }
                catch (OverflowException) { return unchecked((int)Convert.ToUInt32(text.Substring(2), 16)); }
            }
            int mask = 0;
            for (var i = 0; i + 1 < text.Length; i += 2)
            {
                switch (text.Substring(i, 2))
                {
                    case "GA": mask |= 0x10000000; break;
                    case "GW": mask |= 0x40000000; break;
                    case "FA": mask |= 0x1F01FF; break;
                    case "FW": mask |= 0x120116; break;
                    case "DC": mask |= 0x2; break;      // ADS code reused for file rights: bit 1
                    case "LC": mask |= 0x4; break;      // bit 2
                    case "DT": mask |= 0x40; break;     // bit 6
                    case "SD": mask |= 0x10000; break;
                    case "WD": mask |= 0x40000; break;
                    case "WO": mask |= 0x80000; break;
                }
            }
            return mask;
        }

        /// <summary>The DACL as SDDL, or null where it cannot be read.</summary>
        static string WindowsSddl(string path)
        {
            try
            {
                var isDirectory = Directory.Exists(path);
                if (!isDirectory && !File.Exists(path)) return null;
                object security = null;
                // .NET Framework: File/Directory.GetAccessControl(string, AccessControlSections).
                var staticGet = (isDirectory ? typeof(Directory) : typeof(File)).GetMethods(BindingFlags.Public | BindingFlags.Static);
                foreach (var m in staticGet)
                {
                    var p = m.GetParameters();
                    if (m.Name == "GetAccessControl" && p.Length == 2 && p[0].ParameterType == typeof(string))
                    {
                        security = m.Invoke(null, new[] { path, Enum.ToObject(p[1].ParameterType, 2) });   // Access
                        break;
                    }
                }
                if (security == null)
                {
                    // .NET: FileSystemAclExtensions.GetAccessControl(FileInfo|DirectoryInfo, AccessControlSections).
                    var ext = Type.GetType("System.IO.FileSystemAclExtensions, System.IO.FileSystem.AccessControl", false);
                    if (ext == null) return null;
                    var infoType = isDirectory ? typeof(DirectoryInfo) : typeof(FileInfo);
                    object info = isDirectory ? (object)new DirectoryInfo(path) : new FileInfo(path);
                    foreach (var m in ext.GetMethods(BindingFlags.Public | BindingFlags.Static))
                    {
                        var p = m.GetParameters();
                        if (m.Name == "GetAccessControl" && p.Length == 2 && p[0].ParameterType == infoType)
                        {
                            security = m.Invoke(null, new[] { info, Enum.ToObject(p[1].ParameterType, 2) });
                            break;
                        }
                    }
                }
                if (security == null) return null;
                foreach (var m in security.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance))
                {
                    var p = m.GetParameters();
                    if (m.Name == "GetSecurityDescriptorSddlForm" && p.Length == 1)
                        return m.Invoke(security, new[] { Enum.ToObject(p[0].ParameterType, 2) }) as string;
                }
                return null;
            }
            catch (Exception ex) when (ex is TargetInvocationException || ex is IOException || ex is UnauthorizedAccessException
                                       || ex is MemberAccessException || ex is ArgumentException || ex is NotSupportedException)
            {
                return null;
            }
        }
    }
}
