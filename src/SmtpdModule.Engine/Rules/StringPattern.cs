using System;
using System.Text.RegularExpressions;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// The original's "string match" (reference §2.1): <c>ALL</c> (upper case only), a
    /// <c>/regex/</c> searched anywhere and case-insensitively, or a glob.
    /// </summary>
    /// <remarks>Regexes are .NET regexes (not POSIX ERE) compiled once at load, each with a match
    /// timeout so no pattern can stall a session.</remarks>
    public sealed class StringPattern
    {
        StringPattern(string text, bool all, Regex regex, Glob glob)
        {
            Text = text;
            IsAll = all;
            Regex = regex;
            Glob = glob;
        }

        static readonly StringPattern All = new StringPattern("ALL", true, null, null);
        static readonly StringPattern Star = new StringPattern("*", false, null, new Glob("*"));

        public string Text { get; }
        public bool IsAll { get; }
        public Regex Regex { get; }
        public Glob Glob { get; }
        public bool IsRegex => Regex != null;
        /// <summary>A plain literal: no star, not a keyword, not a regex.</summary>
        public bool IsLiteral => !IsAll && Regex == null && !Glob.HasWildcard;
        /// <summary>Matches every string, the empty one included.</summary>
        public bool MatchesEverything => IsAll || (Glob != null && Glob.MatchesEverything);

        /// <summary>True when <paramref name="token"/> has the <c>/…/</c> form of a regex.</summary>
        public static bool LooksLikeRegex(string token) =>
            token.Length >= 2 && token[0] == '/' && token[token.Length - 1] == '/';

        /// <summary>Compiles a token.</summary>
        /// <exception cref="ArgumentException">The token is a regex that does not compile.</exception>
        public static StringPattern Create(string token, TimeSpan regexTimeout)
        {
            if (token == "ALL") return All;
            if (token == "*") return Star;
            if (LooksLikeRegex(token))
            {
                var body = token.Substring(1, token.Length - 2);
                var regex = new Regex(body, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, regexTimeout);
                return new StringPattern(token, false, regex, null);
            }
            return new StringPattern(token, false, null, new Glob(token));
        }

        /// <summary>Matches <paramref name="text"/>; null (no value) matches only <c>ALL</c>.</summary>
        /// <exception cref="RegexMatchTimeoutException">The regex ran past its timeout.</exception>
        public bool IsMatch(string text)
        {
            if (IsAll) return true;
            if (text == null) return false;
            return Regex != null ? Regex.IsMatch(text) : Glob.IsMatch(text, 0, text.Length);
        }

        public override string ToString() => Text;
    }
}
