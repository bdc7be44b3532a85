using System.Collections.Generic;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A weighted set of DNSBLs defined by a <c>score:name:zone*weight ...</c> line: a client's score
    /// is the sum of the weights of the lists that list it (negative weights are allowlists), and a
    /// <c>SCORE.name&gt;=N</c> source token matches when it reaches N (Postfix's postscreen_dnsbl_sites
    /// and postscreen_dnsbl_threshold).
    /// </summary>
    public sealed class ScoreDefinition
    {
        internal ScoreDefinition(string name, int lineNumber, string text, IReadOnlyList<ScoreEntry> entries)
        {
            Name = name;
            LineNumber = lineNumber;
            Text = text;
            Entries = entries;
        }

        /// <summary>The name tokens use (<c>SCORE.name&gt;=N</c>); compared case-insensitively.</summary>
        public string Name { get; }
        public int LineNumber { get; }
        /// <summary>The definition line as written.</summary>
        public string Text { get; }
        public IReadOnlyList<ScoreEntry> Entries { get; }

        public override string ToString() => Name;
    }

    /// <summary>One list of a <see cref="ScoreDefinition"/>: a zone, its answer filter as in <c>RBL.</c> tokens, and its weight.</summary>
    public sealed class ScoreEntry
    {
        internal ScoreEntry(string text, IpPattern list, int weight)
        {
            Text = text;
            List = list;
            Weight = weight;
        }

        /// <summary>The entry as written (<c>zen.spamhaus.org=127.0.0.[2..11]*3</c>).</summary>
        public string Text { get; }
        /// <summary>The zone and its answer filter, as the <c>RBL.</c> token of the same text would be.</summary>
        public IpPattern List { get; }
        public string Zone => List.DnsblZone;
        /// <summary>Added to the score when the list lists the client; negative for an allowlist.</summary>
        public int Weight { get; }

        public override string ToString() => Text;
    }
}
