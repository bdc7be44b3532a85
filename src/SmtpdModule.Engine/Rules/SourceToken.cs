using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A source-list token: a host form, <c>user@host</c> that consults ident (reference §2.2),
    /// or <c>FAILED=&lt;test&gt;</c>, which matches a client that failed that protocol test in this session.</summary>
    public sealed class SourceToken : RuleToken
    {
        SourceToken(string text, HostPattern host, StringPattern user, bool userKnown) : base(text)
        {
            Host = host;
            User = user;
            UserIsKnown = userKnown;
        }

        SourceToken(string text, ProtocolTests failed) : base(text)
        {
            FailedTest = failed;
            Host = HostPattern.Parse(text, TimeSpan.FromSeconds(1));   // never consulted: keeps Host non-null for every reader
        }

        SourceToken(string text, ScoreTest score) : base(text)
        {
            Score = score;
            Host = HostPattern.Parse(text, TimeSpan.FromSeconds(1));   // never consulted, as for FAILED=
        }

        /// <summary>A <c>SCORE.name&gt;=N</c> token.</summary>
        internal static SourceToken ForScore(string text, ScoreTest score) => new SourceToken(text, score);

        /// <summary>What a <c>SCORE.name&gt;=N</c> token tests; null for every other token.</summary>
        public ScoreTest Score { get; }
        public bool IsScore => Score != null;

        /// <summary>The keyword that starts a protocol-test token.</summary>
        public const string FailedPrefix = "FAILED=";

        /// <summary>The tests a <c>FAILED=</c> token names (any one failed matches); None for a host token.</summary>
        public ProtocolTests FailedTest { get; }
        /// <summary>A <c>FAILED=</c> token: it tests the session's protocol tests, never the client's name or address.</summary>
        public bool IsProtocolTest => FailedTest != ProtocolTests.None;

        public HostPattern Host { get; }
        /// <summary>The user part of a <c>user@host</c> token; null for a plain host token.</summary>
        public StringPattern User { get; }
        /// <summary>The user part is <c>KNOWN</c>: any ident answer.</summary>
        public bool UserIsKnown { get; }
        public bool HasUser => User != null || UserIsKnown;

        public override bool IsPure => !IsScore && (IsProtocolTest || !HasUser && IsPureHost(Host));
        public override bool MatchesEverything => !IsScore && !IsProtocolTest && !HasUser && Host.MatchesEverything;

        static bool IsPureHost(HostPattern h) =>
            h.Kind != HostPattern.PatternKind.NameServers && h.Address?.Kind != IpPattern.PatternKind.Dnsbl;

        /// <exception cref="ArgumentException">A regex that does not compile.</exception>
        public static SourceToken Parse(string token, TimeSpan regexTimeout)
        {
            // A host name never holds '=' (RFC 1123), so no file written for the original meant this as a host.
            if (token.StartsWith(FailedPrefix, StringComparison.Ordinal))
                return ProtocolTestNames.TryParse(token.Substring(FailedPrefix.Length), out var test)
                    ? new SourceToken(token, test)
                    : throw new FormatException("unknown protocol test '" + token.Substring(FailedPrefix.Length) + "'");
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
