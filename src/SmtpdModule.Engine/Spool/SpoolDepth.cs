using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>How many messages a spool holds in each state (and in <c>corrupt/</c>), counted from its
    /// directories now: for a report or a metrics scrape, not for deciding anything.</summary>
    public static class SpoolDepth
    {
        /// <summary>The count per directory, in <see cref="SpoolLayout"/>'s order: ready, active,
        /// deferred, held, failed, corrupt. A missing directory counts as empty.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="System.IO.IOException">A directory cannot be listed.</exception>
        /// <exception cref="UnauthorizedAccessException">A directory may not be listed.</exception>
        public static IReadOnlyList<KeyValuePair<string, int>> Count(string root)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            var counts = new List<KeyValuePair<string, int>>();
            foreach (var state in SpoolLayout.MessageDirectories)
                counts.Add(new KeyValuePair<string, int>(state, SpoolDirectory.List(root, state).Count));
            return counts;
        }
    }
}
