using System;

namespace SmtpdModule.Engine.Greylist
{
    /// <summary>
    /// An address filter as PowerShell users type one: <c>*</c> any run of characters, <c>?</c> one
    /// character, case-insensitive, the whole address; angle brackets around it are ignored, so
    /// <c>&lt;&gt;</c> is the null sender. Not the rules' glob, which has no <c>?</c> on purpose
    /// (the original's syntax): this one is for people at a prompt, not rules files.
    /// </summary>
    public sealed class AddressWildcard
    {
        readonly string _pattern;

        public AddressWildcard(string pattern)
        {
            if (pattern == null) throw new ArgumentNullException(nameof(pattern));
            Text = pattern;
            var p = pattern.Trim();
            if (p.Length >= 2 && p[0] == '<' && p[p.Length - 1] == '>') p = p.Substring(1, p.Length - 2);
            _pattern = p;
        }

        /// <summary>The pattern as given.</summary>
        public string Text { get; }

        /// <summary>The whole of <paramref name="text"/> matches; null never does.</summary>
        public bool IsMatch(string text)
        {
            if (text == null) return false;
            // Greedy with one backtrack point, the last star: linear for the patterns people type.
            int p = 0, t = 0, star = -1, mark = 0;
            while (t < text.Length)
            {
                if (p < _pattern.Length && _pattern[p] == '*') { star = p++; mark = t; }
                else if (p < _pattern.Length && (_pattern[p] == '?' || Same(_pattern[p], text[t]))) { p++; t++; }
                else if (star >= 0) { p = star + 1; t = ++mark; }
                else return false;
            }
            while (p < _pattern.Length && _pattern[p] == '*') p++;
            return p == _pattern.Length;
        }

        static bool Same(char a, char b) => a == b || char.ToUpperInvariant(a) == char.ToUpperInvariant(b);

        public override string ToString() => Text;
    }
}
