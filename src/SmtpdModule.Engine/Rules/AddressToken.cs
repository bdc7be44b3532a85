using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>A from-list or to-list token (reference §2.3).</summary>
    public sealed class AddressToken : RuleToken
    {
        public enum TokenKind
        {
            /// <summary><c>/regex/</c> against the whole address.</summary>
            Regex,
            /// <summary>No '@': ALL or a glob against the whole address.</summary>
            Whole,
            /// <summary>No '@', <c>NS=</c>: name servers of the address's domain.</summary>
            NameServers,
            /// <summary><c>L@R</c>: local and domain parts matched separately.</summary>
            LocalAndDomain,
            /// <summary><c>SPF=result</c>: the SPF result of the sender (RFC 7208), a fact of the transaction.</summary>
            Spf,
        }

        /// <summary>The prefix of an SPF result token; the result after it is matched without regard to case.</summary>
        public const string SpfPrefix = "SPF=";

        AddressToken(string text, TokenKind kind) : base(text) { Kind = kind; }

        public TokenKind Kind { get; }
        /// <summary>Regex, Whole: the pattern for the whole address.</summary>
        public StringPattern Whole { get; private set; }
        /// <summary>NameServers, or a LocalAndDomain token whose domain part is <c>NS=</c>.</summary>
        public NsPattern NameServers { get; private set; }
        /// <summary>LocalAndDomain: the local part is <c>USER</c>, the ident answer taken literally.</summary>
        public bool LocalIsUser { get; private set; }
        public StringPattern Local { get; private set; }
        public StringPattern Domain { get; private set; }
        /// <summary>Spf: the result the token tests.</summary>
        public Spf.SpfResult SpfResult { get; private set; }

        public override bool IsPure => NameServers == null && !LocalIsUser && Kind != TokenKind.Spf;
        public override bool MatchesEverything => Kind == TokenKind.Whole && Whole.MatchesEverything;

        /// <summary>An <c>SPF=result</c> token; null when the result is not one of RFC 7208's seven.</summary>
        public static AddressToken ParseSpf(string token)
        {
            var name = token.Substring(SpfPrefix.Length);
            foreach (Spf.SpfResult r in Enum.GetValues(typeof(Spf.SpfResult)))
                if (string.Equals(r.ToString(), name, StringComparison.OrdinalIgnoreCase))
                    return new AddressToken(token, TokenKind.Spf) { SpfResult = r };
            return null;
        }

        /// <exception cref="ArgumentException">A regex that does not compile.</exception>
        public static AddressToken Parse(string token, TimeSpan regexTimeout)
        {
            if (StringPattern.LooksLikeRegex(token))
                return new AddressToken(token, TokenKind.Regex) { Whole = StringPattern.Create(token, regexTimeout) };
            int at = token.LastIndexOf('@');
            if (at < 0)
            {
                return NsPattern.HasPrefix(token)
                    ? new AddressToken(token, TokenKind.NameServers) { NameServers = NsPattern.Parse(token, regexTimeout) }
                    : new AddressToken(token, TokenKind.Whole) { Whole = StringPattern.Create(token, regexTimeout) };
            }
            var l = token.Substring(0, at);
            var r = token.Substring(at + 1);
            var t = new AddressToken(token, TokenKind.LocalAndDomain);
            if (l == "USER") t.LocalIsUser = true;
            else t.Local = StringPattern.Create(l, regexTimeout);
            if (NsPattern.HasPrefix(r)) t.NameServers = NsPattern.Parse(r, regexTimeout);
            else t.Domain = StringPattern.Create(r, regexTimeout);
            return t;
        }
    }
}
