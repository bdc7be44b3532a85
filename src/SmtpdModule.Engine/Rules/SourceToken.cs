using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A source-list token: a host form, or <c>user@host</c> that consults ident (reference §2.2).</summary>
    public sealed class SourceToken : RuleToken
    {
        SourceToken(string text, HostPattern host, StringPattern user, bool userKnown) : base(text)
        {
            Host = host;
            User = user;
            UserIsKnown = userKnown;
        }

        public HostPattern Host { get; }
        /// <summary>The user part of a <c>user@host</c> token; null for a plain host token.</summary>
        public StringPattern User { get; }
        /// <summary>The user part is <c>KNOWN</c>: any ident answer.</summary>
        public bool UserIsKnown { get; }
        public bool HasUser => User != null || UserIsKnown;

        public override bool IsPure => !HasUser && IsPureHost(Host);
        public override bool MatchesEverything => !HasUser && Host.MatchesEverything;

        static bool IsPureHost(HostPattern h) =>
            h.Kind != HostPattern.PatternKind.NameServers && h.Address?.Kind != IpPattern.PatternKind.Dnsbl;

        /// <exception cref="ArgumentException">A regex that does not compile.</exception>
        public static SourceToken Parse(string token, TimeSpan regexTimeout)
        {
            int at = token.LastIndexOf('@');
            if (at < 0 || StringPattern.LooksLikeRegex(token))
                return new SourceToken(token, HostPattern.Parse(token, regexTimeout), null, false);
            var user = token.Substring(0, at);
            var host = HostPattern.Parse(token.Substring(at + 1), regexTimeout);
            // KNOWN is a keyword in the user part; UNKNOWN and USER are not (reference §2.2 a).
            return user == "KNOWN"
                ? new SourceToken(token, host, null, true)
                : new SourceToken(token, host, StringPattern.Create(user, regexTimeout), false);
        }
    }
}
