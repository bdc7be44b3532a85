using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>How many messages a spool holds in each state (and in <c>corrupt/</c>), counted from its
    /// directories now: for a report or a metrics scrape, not for deciding anything.</summary>
    public static class SpoolDepth
    {
        /// <summary>The directories counted, in the order a message normally passes them: ready, active,
        /// deferred, held, failed, then corrupt.</summary>
        public static IReadOnlyList<string> Directories => SpoolLayout.MessageDirectories;

        /// <summary>The messages in one of <see cref="Directories"/>; a missing directory is empty. In
        /// <c>corrupt/</c> every file counts: what lands there is by definition not a well-formed message.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> or <paramref name="directory"/> is null.</exception>
        /// <exception cref="IOException">The directory cannot be listed.</exception>
        /// <exception cref="UnauthorizedAccessException">The directory may not be listed.</exception>
        public static int Count(string root, string directory)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            if (directory == null) throw new ArgumentNullException(nameof(directory));
            if (directory != SpoolLayout.Corrupt) return SpoolDirectory.List(root, directory).Count;
            var path = Path.Combine(root, directory);
            var n = 0;
            try { foreach (var _ in Directory.EnumerateFiles(path)) n++; }
            catch (DirectoryNotFoundException) { }
            return n;
        }

        /// <summary>The count of each of <see cref="Directories"/>, in their order.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="IOException">A directory cannot be listed.</exception>
        /// <exception cref="UnauthorizedAccessException">A directory may not be listed.</exception>
        public static IReadOnlyList<KeyValuePair<string, int>> Count(string root)
        {
            var counts = new List<KeyValuePair<string, int>>();
            foreach (var directory in Directories) counts.Add(new KeyValuePair<string, int>(directory, Count(root, directory)));
            return counts;
        }
    }
}
