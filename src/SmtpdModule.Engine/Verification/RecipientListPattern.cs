namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// The local-part wildcard of a recipient list: <c>*</c> matches any run of characters (none
    /// included), <c>?</c> exactly one; everything else matches itself ignoring case. A character
    /// outside the Basic Multilingual Plane counts as one, so <c>?</c> never splits it.
    /// </summary>
    internal static class RecipientListPattern
    {
        /// <summary>The pattern in the form <see cref="IsMatch"/> wants: upper-cased once at load.</summary>
        internal static string Compile(string pattern) => pattern.ToUpperInvariant();

        /// <summary>Whole-string match. Iterative, backtracking only to the last star: O(pattern × text)
        /// at worst, and local parts are at most a few dozen characters.</summary>
        internal static bool IsMatch(string compiled, string text)
        {
            int p = 0, t = 0, starP = -1, starT = 0;
            while (t < text.Length)
            {
                if (p < compiled.Length && compiled[p] == '*')
                {
                    starP = p++;
                    starT = t;
                    continue;
                }
                if (p < compiled.Length && compiled[p] == '?')
                {
                    p++;
                    t += Width(text, t);
                    continue;
                }
                if (p < compiled.Length && compiled[p] == char.ToUpperInvariant(text[t]))
                {
                    p++;
                    t++;
                    continue;
                }
                if (starP < 0) return false;
                // Let the last star swallow one more character and try again from there.
                starT += Width(text, starT);
                t = starT;
                p = starP + 1;
            }
            while (p < compiled.Length && compiled[p] == '*') p++;
            return p == compiled.Length;
        }

        static int Width(string text, int i) => char.IsSurrogatePair(text, i) ? 2 : 1;
    }
}
