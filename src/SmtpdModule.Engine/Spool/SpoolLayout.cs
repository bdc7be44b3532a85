using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The names of the spool's directories and files. Each message is two files: its bytes in
    /// <c>data/&lt;id&gt;.eml</c> (written once, never changed) and its envelope,
    /// <c>&lt;id&gt;.env</c>, in exactly one state directory. A message changes state by a rename
    /// of its envelope; its appearance in <c>ready/</c> is the commit.
    /// </summary>
    public static class SpoolLayout
    {
        /// <summary>Files being written (<c>&lt;id&gt;.eml.tmp</c>, <c>&lt;id&gt;.env.tmp</c>).
        /// Whatever is left here after a crash was never acknowledged.</summary>
        public const string Incoming = "incoming";

        /// <summary>Message bytes, <c>&lt;id&gt;.eml</c>, immutable once here.</summary>
        public const string Data = "data";

        /// <summary>Committed envelopes waiting for the forwarder.</summary>
        public const string Ready = "ready";

        /// <summary>Envelopes the forwarder is delivering.</summary>
        public const string Active = "active";

        /// <summary>Envelopes waiting for a retry.</summary>
        public const string Deferred = "deferred";

        /// <summary>Envelopes put aside by an administrator.</summary>
        public const string Held = "held";

        /// <summary>Envelopes that failed permanently.</summary>
        public const string Failed = "failed";

        /// <summary>Files that could not be read; kept for an administrator.</summary>
        public const string Corrupt = "corrupt";

        public const string MessageExtension = ".eml";
        public const string EnvelopeExtension = ".env";
        public const string TemporarySuffix = ".tmp";

        /// <summary>The state directories, in the order a message normally passes them. An
        /// envelope is in exactly one of them at any time.</summary>
        public static IReadOnlyList<string> States { get; } = new[] { Ready, Active, Deferred, Held, Failed };

        /// <summary>Every directory that can hold an envelope: the states and <see cref="Corrupt"/>.</summary>
        internal static IReadOnlyList<string> EnvelopeDirectories { get; } = new[] { Ready, Active, Deferred, Held, Failed, Corrupt };

        /// <summary>All directories under the root, created by <see cref="SpoolWriter.Open(string)"/>.</summary>
        internal static IReadOnlyList<string> AllDirectories { get; } = new[] { Incoming, Data, Ready, Active, Deferred, Held, Failed, Corrupt };

        internal static bool IsEnvelopeDirectory(string name)
        {
            foreach (var d in EnvelopeDirectories)
                if (string.Equals(d, name, StringComparison.Ordinal)) return true;
            return false;
        }

        internal static string DataPath(string root, string id) =>
            Path.Combine(root, Data, Checked(id) + MessageExtension);

        internal static string EnvelopePath(string root, string state, string id)
        {
            if (!IsEnvelopeDirectory(state)) throw new ArgumentException("Not a spool state: " + state, nameof(state));
            return Path.Combine(root, state, Checked(id) + EnvelopeExtension);
        }

        internal static string IncomingMessagePath(string root, string id) =>
            Path.Combine(root, Incoming, Checked(id) + MessageExtension + TemporarySuffix);

        internal static string IncomingEnvelopePath(string root, string id) =>
            Path.Combine(root, Incoming, Checked(id) + EnvelopeExtension + TemporarySuffix);

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
    }
}
