using System.Collections.Generic;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// What an import read and what it passed over, filled in as the records are enumerated (the
    /// counts are final once the enumeration ends). A big log always has a few lines nobody can
    /// parse; they are counted here, never thrown.
    /// </summary>
    public sealed class TrafficLogStats
    {
        /// <summary>The first skipped lines kept as examples; the rest are only counted.</summary>
        public const int SamplesKept = 20;
        readonly List<SkippedLine> _samples = new List<SkippedLine>();

        /// <summary>Lines read, empty ones and header lines included.</summary>
        public long Lines { get; internal set; }
        /// <summary>Decision records produced.</summary>
        public long Records { get; internal set; }
        /// <summary>Lines of the format that could not be parsed (garbled, cut short, an unknown shape of a line this importer reads).</summary>
        public long Skipped { get; internal set; }
        /// <summary>Messages whose pending state was dropped to keep memory bounded before their
        /// recipients were seen (Postfix); their later lines are passed over.</summary>
        public long Evicted { get; internal set; }
        /// <summary>The first <see cref="SamplesKept"/> skipped lines, to show an administrator what was passed over.</summary>
        public IReadOnlyList<SkippedLine> SkippedSamples => _samples;

        internal void Skip(long lineNumber, string text, string reason)
        {
            Skipped++;
            if (_samples.Count < SamplesKept) _samples.Add(new SkippedLine(lineNumber, text, reason));
        }
    }
}
