using System;
using System.Collections.Generic;
using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// How many messages a spool holds in each state (and in <c>corrupt/</c>), counted by
    /// <see cref="Spool.SpoolDepth"/> at scrape time and kept for <see cref="MaxAge"/>, so that scrapes,
    /// however many and however often, list the disk at most once per interval.
    /// </summary>
    public sealed class SpoolDepthCache
    {
        /// <summary>The label values, in the order <see cref="Read"/> gives them.</summary>
        public static IReadOnlyList<string> StateNames => Spool.SpoolDepth.Directories;

        readonly string _root;
        readonly object _gate = new object();
        DateTime _takenUtc = DateTime.MinValue;
        long[] _counts;

        /// <param name="root">The spool's root.</param>
        /// <param name="maxAge">How long a count is reused; zero counts at every read.</param>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        public SpoolDepthCache(string root, TimeSpan maxAge)
        {
            _root = root ?? throw new ArgumentNullException(nameof(root));
            MaxAge = maxAge;
        }

        /// <summary>How long a count is reused.</summary>
        public TimeSpan MaxAge { get; }

        /// <summary>The count per state, in the order of <see cref="StateNames"/>; -1 for a directory that
        /// cannot be listed (the gauge is then left out rather than reported as an empty queue).</summary>
        public long[] Read()
        {
            lock (_gate)
            {
                var now = DateTime.UtcNow;
                if (_counts == null || now - _takenUtc >= MaxAge || now < _takenUtc)
                {
                    _counts = Count();
                    _takenUtc = now;
                }
                return (long[])_counts.Clone();
            }
        }

        long[] Count()
        {
            var counts = new long[StateNames.Count];
            for (var i = 0; i < counts.Length; i++)
            {
                try { counts[i] = Spool.SpoolDepth.Count(_root, StateNames[i]); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    counts[i] = -1;
                }
            }
            return counts;
        }
    }
}
