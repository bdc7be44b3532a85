using System;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// The original's glob (reference §2.1): <c>*</c> is the only wildcard and matches any run of
    /// characters, dots and <c>@</c> included; no <c>?</c>, classes or escapes; the whole string must
    /// match; case-insensitive. The pattern is split once into literal segments so a match
    /// allocates nothing.
    /// </summary>
    public sealed class Glob
    {
        readonly string[] _segments;   // literal pieces between stars
        readonly bool _leadingStar, _trailingStar;
        readonly int _minLength;

        public Glob(string pattern)
        {
            Pattern = pattern ?? throw new ArgumentNullException(nameof(pattern));
            HasWildcard = pattern.IndexOf('*') >= 0;
            if (!HasWildcard) return;   // a literal: compared whole, no segments needed
            _leadingStar = pattern[0] == '*';
            _trailingStar = pattern[pattern.Length - 1] == '*';
            _segments = pattern.Split(new[] { '*' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var s in _segments) _minLength += s.Length;
            MatchesEverything = HasWildcard && _segments.Length == 0;
        }

        public string Pattern { get; }
        public bool HasWildcard { get; }
        /// <summary>The pattern is only stars: it matches every string, the empty one included.</summary>
        public bool MatchesEverything { get; }

        public bool IsMatch(string text) => text != null && IsMatch(text, 0, text.Length);

        /// <summary>Matches <paramref name="text"/>[start, start+length) against the whole pattern.</summary>
        public bool IsMatch(string text, int start, int length)
        {
            if (text == null) return false;
            if (!HasWildcard)
                return length == Pattern.Length && string.Compare(text, start, Pattern, 0, length, StringComparison.OrdinalIgnoreCase) == 0;
            if (length < _minLength) return false;
            if (_segments.Length == 0) return true;

            int pos = start, end = start + length, first = 0, last = _segments.Length - 1;
            if (!_leadingStar)
            {
                var s = _segments[0];
                if (string.Compare(text, start, s, 0, s.Length, StringComparison.OrdinalIgnoreCase) != 0) return false;
                pos += s.Length;
                first = 1;
            }
            if (!_trailingStar)
            {
                var s = _segments[last];
                if (first > last) return pos == end;   // a single segment was both prefix and suffix
                if (end - s.Length < pos) return false;
                if (string.Compare(text, end - s.Length, s, 0, s.Length, StringComparison.OrdinalIgnoreCase) != 0) return false;
                end -= s.Length;
                last--;
            }
            // Middle segments: leftmost placement is always safe for '*'-only globs.
            for (int i = first; i <= last; i++)
            {
                var s = _segments[i];
                if (end - pos < s.Length) return false;
                int at = text.IndexOf(s, pos, end - pos, StringComparison.OrdinalIgnoreCase);
                if (at < 0) return false;
                pos = at + s.Length;
            }
            return pos <= end;
        }

        public override string ToString() => Pattern;
    }
}
