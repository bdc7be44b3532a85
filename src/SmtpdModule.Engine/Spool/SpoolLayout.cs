using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The names of the spool's directories and files. Each message is one file,
    /// <c>&lt;id&gt;.msg</c>: its envelope as a text header, a blank line, then the message bytes
    /// (see <see cref="MessageFile"/>). It is written in <c>incoming/</c> as
    /// <c>&lt;id&gt;.tmp</c>, and its rename into <c>ready/</c> is the commit; after that it is in
    /// exactly one state directory and changes state by a rename.
    /// </summary>
    public static class SpoolLayout
    {
        /// <summary>Messages being written (<c>&lt;id&gt;.tmp</c>). Whatever is left here after a
        /// crash was never acknowledged.</summary>
        public const string Incoming = "incoming";

        /// <summary>Committed messages waiting for the forwarder.</summary>
        public const string Ready = "ready";

        /// <summary>Messages a forwarder is delivering, in one directory per forwarder,
        /// <c>active/&lt;owner&gt;/&lt;id&gt;.msg</c>, so that the claims of a forwarder that died
        /// can be found and given back (see <see cref="SpoolLease"/>).</summary>
        public const string Active = "active";

        /// <summary>Messages waiting for a retry.</summary>
        public const string Deferred = "deferred";

        /// <summary>Messages put aside by an administrator.</summary>
        public const string Held = "held";

        /// <summary>Messages that failed permanently.</summary>
        public const string Failed = "failed";

        /// <summary>Files that could not be read; kept for an administrator.</summary>
        public const string Corrupt = "corrupt";

        /// <summary>The forwarder's record of each message's delivery, <c>&lt;id&gt;.status</c>,
        /// apart from the message so that a state change stays one rename (see
        /// <see cref="DeliveryStatusFile"/>).</summary>
        public const string Status = "status";

        /// <summary>The proxy's embedded state store (greylisting, rate limits, passes) when no other
        /// place is given: the proxy's, never the forwarder's, and never shared by two proxies.</summary>
        public const string ProxyState = "proxy-state";

        /// <summary>A message's delivery record in <see cref="Status"/>.</summary>
        public const string StatusExtension = ".status";

        /// <summary>The lock a live forwarder holds in its own directory under <c>active/</c>.</summary>
        internal const string OwnerLockName = "owner.lock";

        /// <summary>A message file in a state directory: envelope header, blank line, bytes.</summary>
        public const string MessageExtension = ".msg";

        /// <summary>A message file being written in <c>incoming/</c>.</summary>
        public const string TemporaryExtension = ".tmp";

        /// <summary>A message being removed, in <c>incoming/</c> until its deletion.</summary>
        internal const string RemovedExtension = ".removed";

        /// <summary>The state directories, in the order a message normally passes them. A
        /// message is in exactly one of them at any time.</summary>
        public static IReadOnlyList<string> States { get; } = new[] { Ready, Active, Deferred, Held, Failed };

        /// <summary>Every directory that can hold a message: the states and <see cref="Corrupt"/>.</summary>
        internal static IReadOnlyList<string> MessageDirectories { get; } = new[] { Ready, Active, Deferred, Held, Failed, Corrupt };

        /// <summary>All directories under the root, created by <see cref="SpoolWriter.Open(string)"/>.</summary>
        internal static IReadOnlyList<string> AllDirectories { get; } = new[] { Incoming, Ready, Active, Deferred, Held, Failed, Corrupt, Status };

        /// <summary>The directory of <paramref name="state"/>.</summary>
        public static string DirectoryOf(SpoolState state)
        {
            switch (state)
            {
                case SpoolState.Ready: return Ready;
                case SpoolState.Active: return Active;
                case SpoolState.Deferred: return Deferred;
                case SpoolState.Held: return Held;
                case SpoolState.Failed: return Failed;
                default: throw new ArgumentOutOfRangeException(nameof(state));
            }
        }

        /// <summary>The state a state directory stands for.</summary>
        internal static SpoolState StateOf(string directory)
        {
            for (var s = SpoolState.Ready; s <= SpoolState.Failed; s++)
                if (DirectoryOf(s) == directory) return s;
            throw new ArgumentException("Not a state directory: " + directory, nameof(directory));
        }

        internal static bool IsMessageDirectory(string name)
        {
            foreach (var d in MessageDirectories)
                if (string.Equals(d, name, StringComparison.Ordinal)) return true;
            return false;
        }

        internal static string MessagePath(string root, string state, string id)
        {
            if (!IsMessageDirectory(state)) throw new ArgumentException("Not a spool state: " + state, nameof(state));
            return Path.Combine(root, state, Checked(id) + MessageExtension);
        }

        /// <summary>Where a forwarder keeps the messages it has claimed: <c>active/&lt;owner&gt;/</c>.</summary>
        internal static string OwnerDirectory(string root, string owner) => Path.Combine(root, Active, owner);

        internal static string ClaimedPath(string root, string owner, string id) =>
            Path.Combine(OwnerDirectory(root, owner), Checked(id) + MessageExtension);

        internal static string StatusPath(string root, string id) =>
            Path.Combine(root, Status, Checked(id) + StatusExtension);

        /// <summary>Where <see cref="SpoolQueue.Remove"/> puts a message on its way out.</summary>
        internal static string RemovedPath(string root, string id) =>
            Path.Combine(root, Incoming, Checked(id) + RemovedExtension);

        internal static string IncomingPath(string root, string id) =>
            Path.Combine(root, Incoming, Checked(id) + TemporaryExtension);

        /// <summary>The id in a file name <c>&lt;id&gt;&lt;extension&gt;</c>, or null when the
        /// name is anything else.</summary>
        internal static string IdFromFileName(string fileName, string extension)
        {
            if (fileName == null || !fileName.EndsWith(extension, StringComparison.Ordinal)) return null;
            var id = fileName.Substring(0, fileName.Length - extension.Length);
            return SpoolId.IsValid(id) ? id : null;
        }

        // The last guard: callers validate ids (and report NotFound); a bad id reaching here is a bug.
        static string Checked(string id)
        {
            if (!SpoolId.IsValid(id)) throw new ArgumentException("Not a spool id.", nameof(id));
            return id;
        }

        /// <summary>Creates the spool's directories that are missing (0700 on Unix) and syncs
        /// their parents.</summary>
        internal static void Create(string root, Action<string> sync)
        {
            var createdRoot = !Directory.Exists(root);
            if (createdRoot)
            {
                Directory.CreateDirectory(root);
                UnixPermissions.Restrict(root, UnixPermissions.PrivateDirectory);
            }
            var createdAny = false;
            foreach (var name in AllDirectories)
            {
                var path = Path.Combine(root, name);
                if (Directory.Exists(path)) continue;
                Directory.CreateDirectory(path);
                UnixPermissions.Restrict(path, UnixPermissions.PrivateDirectory);
                createdAny = true;
            }
            // New directory entries are as volatile as new file names: without these syncs a power
            // loss could take ready/ itself, with acknowledged mail in it.
            if (createdAny) sync(root);
            var parent = Path.GetDirectoryName(root);
            if (createdRoot && parent != null) sync(parent);
        }
    }
}
