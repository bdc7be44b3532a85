using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// A list of header field names with wildcards ('*' any run, '?' one character), matched
    /// without regard to case (RFC 5322 §1.2.2). Used to remove fields that only the inside may
    /// set (<see cref="SmtpProxyOptions.RemoveHeaders"/>).
    /// </summary>
    internal sealed class HeaderNameMatcher
    {
        readonly string[] _patterns;

        public HeaderNameMatcher(IEnumerable<string> patterns)
        {
            var list = new List<string>();
            if (patterns != null)
                foreach (var p in patterns)
                    if (!string.IsNullOrEmpty(p)) list.Add(p);
            _patterns = list.ToArray();
        }

        /// <summary>True when a pattern is valid: printable ASCII without ':' or a space (RFC 5322
        /// §3.6.8 ftext), wildcards included.</summary>
        public static bool IsValidPattern(string pattern)
        {
            if (string.IsNullOrEmpty(pattern)) return false;
            foreach (var c in pattern)
                if (c <= 0x20 || c >= 0x7F || c == ':') return false;
            return true;
        }

        /// <summary>Whether the name (ASCII bytes) matches one of the patterns.</summary>
        public bool Matches(byte[] name, int offset, int count)
        {
            foreach (var p in _patterns)
                if (Glob(p, 0, name, offset, offset + count)) return true;
            return false;
        }

        static bool Glob(string p, int pi, byte[] s, int si, int end)
        {
            // Iterative with one backtrack point, linear for the usual patterns: a long hostile
            // name cannot make it blow up.
            int starP = -1, starS = -1;
            while (si < end)
            {
                if (pi < p.Length && p[pi] == '*') { starP = pi++; starS = si; }
                else if (pi < p.Length && (p[pi] == '?' || Lower(p[pi]) == Lower((char)s[si]))) { pi++; si++; }
                else if (starP >= 0) { pi = starP + 1; si = ++starS; }
                else return false;
            }
            while (pi < p.Length && p[pi] == '*') pi++;
            return pi == p.Length;
        }

        static char Lower(char c) => c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
}
