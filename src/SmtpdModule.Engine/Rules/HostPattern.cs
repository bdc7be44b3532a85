using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A source host token, or the host half of <c>user@host</c> (reference §2.2 b).</summary>
    public sealed class HostPattern
    {
        public enum PatternKind { Known, Unknown, NameServers, General }

        HostPattern(string text, PatternKind kind, StringPattern name, IpPattern address, NsPattern ns)
        {
            Text = text;
            Kind = kind;
            Name = name;
            Address = address;
            NameServers = ns;
        }

        public string Text { get; }
        public PatternKind Kind { get; }
        /// <summary>String match against the reverse name (General only).</summary>
        public StringPattern Name { get; }
        /// <summary>The IP matcher's view of the token: used for every kind when the reverse name looks like an IP address.</summary>
        public IpPattern Address { get; }
        public NsPattern NameServers { get; }

        /// <summary>Matches every peer without a lookup.</summary>
        public bool MatchesEverything => Kind == PatternKind.General && (Name.MatchesEverything || Address?.Kind == IpPattern.PatternKind.All);

        /// <exception cref="ArgumentException">A regex that does not compile.</exception>
        public static HostPattern Parse(string token, TimeSpan regexTimeout)
        {
            var ip = IpPattern.Parse(token);
            if (token == "KNOWN") return new HostPattern(token, PatternKind.Known, null, ip, null);
            if (token == "UNKNOWN") return new HostPattern(token, PatternKind.Unknown, null, ip, null);
            if (NsPattern.HasPrefix(token)) return new HostPattern(token, PatternKind.NameServers, null, ip, NsPattern.Parse(token, regexTimeout));
            var name = StringPattern.Create(token, regexTimeout);
            // A /regex/ source token is matched against the name only (reference §2.2 b6).
            return new HostPattern(token, PatternKind.General, name, name.IsRegex ? null : ip, null);
        }

        public override string ToString() => Text;
    }
}
