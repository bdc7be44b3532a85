using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Control
{
    /// <summary>
    /// Where a proxy's or forwarder's control endpoint is: in <c>control/</c> under its spool, so an
    /// administrator who knows the spool finds it, and only who may read the spool (0700, the
    /// service account; root or Administrators) may reach it. One entry per running instance,
    /// <c>&lt;kind&gt;-&lt;pid&gt;-&lt;id&gt;</c>: on Unix the socket itself (<c>.sock</c>; .NET
    /// serves a named pipe whose name is an absolute path as a Unix domain socket at that path),
    /// on Windows a marker file (<c>.pipe</c>) that holds the name of the named pipe. A Unix
    /// socket path may not be longer than about 100 bytes: under a spool whose path is too long
    /// for that, the socket goes into a private folder with an unguessable name in the temporary
    /// folder, and a <c>.pipe</c> marker in <c>control/</c> holds its path.
    /// </summary>
    public sealed class ControlLocation
    {
        /// <summary>The folder under the spool root.</summary>
        public const string DirectoryName = "control";

        /// <summary>What serves a control endpoint.</summary>
        public const string ProxyKind = "proxy", ForwarderKind = "forwarder";

        internal const string SocketExtension = ".sock", MarkerExtension = ".pipe";
        // sun_path is 108 bytes on Linux and 104 on macOS, the terminating NUL included.
        const int MaxSocketPath = 100;
        const string TempFolderPrefix = "smtpd-control-";

        ControlLocation(string file, string kind, int processId, int id)
        {
            File = file;
            Kind = kind;
            ProcessId = processId;
            Id = id;
        }

        /// <summary>The socket (Unix) or marker file (Windows).</summary>
        public string File { get; }
        public string Kind { get; }
        public int ProcessId { get; }
        /// <summary>The instance's id in its process.</summary>
        public int Id { get; }

        /// <summary>The name given to NamedPipeServerStream/NamedPipeClientStream: the socket path
        /// on Unix, the pipe name read from the marker on Windows.</summary>
        internal string PipeName => IsMarker ? ReadMarker() : File;

        bool IsMarker => File.EndsWith(MarkerExtension, StringComparison.Ordinal);

        internal static string DirectoryOf(string spoolRoot) => Path.Combine(spoolRoot, DirectoryName);

        internal static ControlLocation ForThisProcess(string spoolRoot, string kind, int id)
        {
            int pid = CurrentProcessId;
            var name = kind + "-" + pid.ToString(CultureInfo.InvariantCulture) + "-" + id.ToString(CultureInfo.InvariantCulture);
            var socket = Path.Combine(DirectoryOf(spoolRoot), name + SocketExtension);
            bool marker = HostOsInfo.IsWindows || System.Text.Encoding.UTF8.GetByteCount(socket) > MaxSocketPath;
            return new ControlLocation(marker ? Path.ChangeExtension(socket, MarkerExtension) : socket, kind, pid, id);
        }

        /// <summary>Where the socket of a marker goes on Unix: a new folder, 0700, whose name
        /// nobody can guess and so nobody can have made first.</summary>
        /// <exception cref="IOException">Even /tmp gives too long a path.</exception>
        internal static string NewTemporarySocketPath()
        {
            // TMPDIR may itself be long (a test's, a container's): /tmp is the short fallback.
            foreach (var root in new[] { Path.GetTempPath(), "/tmp" })
            {
                var dir = Path.Combine(root, TempFolderPrefix + Guid.NewGuid().ToString("N"));
                var socket = Path.Combine(dir, "s");
                if (System.Text.Encoding.UTF8.GetByteCount(socket) > MaxSocketPath) continue;
                Directory.CreateDirectory(dir);
                UnixPermissions.Restrict(dir, UnixPermissions.PrivateDirectory);
                return socket;
            }
            throw new IOException("No folder gives a Unix socket path short enough for the control channel.");
        }

        /// <summary>The endpoints in a spool's control folder, of one kind (or all when null),
        /// lowest process id and id first. Nothing there (or no folder) is an empty list.</summary>
        /// <exception cref="UnauthorizedAccessException">The folder may not be read (not the service account, not an administrator).</exception>
        public static IReadOnlyList<ControlLocation> List(string spoolRoot, string kind = null)
        {
            var list = new List<ControlLocation>();
            var dir = DirectoryOf(spoolRoot);
            if (!Directory.Exists(dir)) return list;
            foreach (var file in Directory.EnumerateFiles(dir))
            {
                var ext = Path.GetExtension(file);
                if (ext != MarkerExtension && (HostOsInfo.IsWindows || ext != SocketExtension)) continue;
                var parts = Path.GetFileNameWithoutExtension(file).Split('-');
                if (parts.Length != 3) continue;
                if (kind != null && parts[0] != kind) continue;
                if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
                if (!int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
                list.Add(new ControlLocation(file, parts[0], pid, id));
            }
            list.Sort((a, b) => a.ProcessId != b.ProcessId ? a.ProcessId.CompareTo(b.ProcessId) : a.Id.CompareTo(b.Id));
            return list;
        }

        /// <summary>True when no process has this endpoint's process id: the endpoint is stale.</summary>
        internal bool OwnerIsGone()
        {
            try
            {
                using (var p = Process.GetProcessById(ProcessId)) return p.HasExited;
            }
            catch (ArgumentException) { return true; }
            catch (InvalidOperationException) { return true; }
        }

        /// <summary>Removes a stale endpoint (and the private folder of a socket a marker points
        /// to); another reader may have removed it first.</summary>
        internal void Remove()
        {
            var target = IsMarker && !HostOsInfo.IsWindows ? ReadMarker() : null;
            try { System.IO.File.Delete(File); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            var dir = target == null ? null : Path.GetDirectoryName(target);
            // Only what this code makes: a folder named so in the temporary folder.
            if (dir == null || !Path.GetFileName(dir).StartsWith(TempFolderPrefix, StringComparison.Ordinal)) return;
            try { Directory.Delete(dir, recursive: true); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
        }

        string ReadMarker()
        {
            try { return System.IO.File.ReadAllText(File).Trim(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return null; }
        }

        static int CurrentProcessId
        {
            get { using (var p = Process.GetCurrentProcess()) return p.Id; }
        }

        public override string ToString() => File;
    }
}
