using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The part after <c>NS=</c> (reference §2.4): <c>KNOWN</c>, <c>UNKNOWN</c>, or a pattern
    /// tried against every collected name-server/MX address (IP matcher) and name (string match).</summary>
    public sealed class NsPattern
    {
        public enum PatternKind { Known, Unknown, General }

        NsPattern(string text, PatternKind kind, StringPattern names, IpPattern addresses)
        {
            Text = text;
            Kind = kind;
            Names = names;
            Addresses = addresses;
        }

        public string Text { get; }
        public PatternKind Kind { get; }
        public StringPattern Names { get; }
        public IpPattern Addresses { get; }

        public static bool HasPrefix(string token) => token.StartsWith("NS=", StringComparison.Ordinal);

        /// <exception cref="ArgumentException">A regex that does not compile.</exception>
        public static NsPattern Parse(string token, TimeSpan regexTimeout)
        {
            var p = token.Substring(3);
            if (p == "KNOWN") return new NsPattern(token, PatternKind.Known, null, null);
            if (p == "UNKNOWN") return new NsPattern(token, PatternKind.Unknown, null, null);
            return new NsPattern(token, PatternKind.General, StringPattern.Create(p, regexTimeout), IpPattern.Parse(p));
        }

        public override string ToString() => Text;
    }
}
