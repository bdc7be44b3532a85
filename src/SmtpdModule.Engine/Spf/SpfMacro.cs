using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>
    /// Macro strings (RFC 7208 §7): parsing, the domain-spec syntax of §7.1, and expansion.
    /// <c>%{letter digits r delimiters}</c>, <c>%%</c>, <c>%_</c>, <c>%-</c>; any other <c>%</c> is a
    /// syntax error. c, r and t are allowed only in explanation text (§7.2).
    /// </summary>
    static class SpfMacro
    {
        const string Delimiters = ".-+,/_=";
        const string DomainLetters = "slodipvh";
        const string ExplanationLetters = "slodipvhcrt";
        const int MaxDomainLength = 253;

        static readonly Regex TopLabel = new Regex(
            @"^(?:[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$", RegexOptions.CultureInvariant);

        /// <summary>One piece of a macro string: literal text, or a macro with its transformers.</summary>
        internal sealed class Token
        {
            public string Literal;
            public char Letter;          // lower case; 0 for a literal
            public bool Escape;          // the letter was upper case: URL-escape the value (§7.3)
            public int Digits;           // 0: all parts
            public bool Reverse;
            public string Split;         // delimiters; "." when none were given
        }

        /// <summary>Parses <paramref name="text"/>; null with <paramref name="error"/> on a syntax error.</summary>
        /// <param name="text">The macro string.</param>
        /// <param name="error">Why it is not one; null on success.</param>
        /// <param name="explanation">Explanation text: c, r and t are allowed, and so is any visible
        /// character and space (§6.2); elsewhere literals are %x21-7E without '%'.</param>
        public static List<Token> Parse(string text, bool explanation, out string error)
        {
            var tokens = new List<Token>();
            var literal = new StringBuilder();
            error = null;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                if (c != '%')
                {
                    if (c > 0x7E || c < (explanation ? 0x20 : 0x21))
                    {
                        error = "character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + " is not allowed in '" + text + "'";
                        return null;
                    }
                    literal.Append(c);
                    continue;
                }
                if (i + 1 >= text.Length) { error = "'%' at the end of '" + text + "'"; return null; }
                var next = text[++i];
                if (next == '%') { literal.Append('%'); continue; }
                if (next == '_') { literal.Append(' '); continue; }
                if (next == '-') { literal.Append("%20"); continue; }
                if (next != '{') { error = "'%" + next + "' is not a macro in '" + text + "'"; return null; }
                var close = text.IndexOf('}', i);
                if (close < 0) { error = "unclosed macro in '" + text + "'"; return null; }
                var body = text.Substring(i + 1, close - i - 1);
                var token = ParseMacro(body, explanation, out error);
                if (token == null) { error += " in '" + text + "'"; return null; }
                if (literal.Length > 0) { tokens.Add(new Token { Literal = literal.ToString() }); literal.Clear(); }
                tokens.Add(token);
                i = close;
            }
            if (literal.Length > 0) tokens.Add(new Token { Literal = literal.ToString() });
            return tokens;
        }

        static Token ParseMacro(string body, bool explanation, out string error)
        {
            error = null;
            if (body.Length == 0) { error = "empty macro"; return null; }
            var letter = body[0];
            var lower = char.ToLowerInvariant(letter);
            if ((explanation ? ExplanationLetters : DomainLetters).IndexOf(lower) < 0 || letter > 0x7E)
            {
                error = "'%{" + letter + "' is not a macro letter" + (ExplanationLetters.IndexOf(lower) >= 0 ? " outside explanation text" : "");
                return null;
            }
            var i = 1;
            var start = i;
            while (i < body.Length && body[i] >= '0' && body[i] <= '9') i++;
            var digits = 0;
            if (i > start)
            {
                // A DIGIT transformer must be nonzero (§7.3); more than 128 parts cannot exist in a name.
                var text = body.Substring(start, i - start).TrimStart('0');
                if (text.Length == 0) { error = "macro transformer 0"; return null; }
                digits = text.Length > 3 ? 128 : Math.Min(128, int.Parse(text, CultureInfo.InvariantCulture));
            }
            var reverse = false;
            if (i < body.Length && (body[i] == 'r' || body[i] == 'R')) { reverse = true; i++; }
            var split = new StringBuilder();
            for (; i < body.Length; i++)
            {
                if (Delimiters.IndexOf(body[i]) < 0) { error = "'" + body[i] + "' is not a macro delimiter"; return null; }
                split.Append(body[i]);
            }
            return new Token
            {
                Letter = lower,
                Escape = char.IsUpper(letter),
                Digits = digits,
                Reverse = reverse,
                Split = split.Length == 0 ? "." : split.ToString(),
            };
        }

        /// <summary>Whether <paramref name="spec"/> is a domain-spec (§7.1): a macro string that ends in a
        /// macro or in "." toplabel, with an optional final dot.</summary>
        public static bool IsDomainSpec(string spec, out string error)
        {
            if (string.IsNullOrEmpty(spec)) { error = "empty domain-spec"; return false; }
            var tokens = Parse(spec, explanation: false, out error);
            if (tokens == null) return false;
            var last = tokens[tokens.Count - 1];
            // %% %_ %- end the string as macro-expands too, but they arrive here merged into the literal.
            if (last.Letter != 0 || EndsWithMacroEscape(spec)) return true;
            var text = last.Literal;
            if (text.EndsWith(".", StringComparison.Ordinal)) text = text.Substring(0, text.Length - 1);
            var dot = text.LastIndexOf('.');
            if (dot < 0)
            {
                error = "'" + spec + "' has no '.' before its top label";
                return false;
            }
            var top = text.Substring(dot + 1);
            if (!TopLabel.IsMatch(top))
            {
                error = "'" + spec + "' does not end in a valid top label ('" + top + "')";
                return false;
            }
            return true;
        }

        static bool EndsWithMacroEscape(string spec)
        {
            // Count the '%' before the last character: an odd run means the last two are an escape.
            if (spec.Length < 2) return false;
            var c = spec[spec.Length - 1];
            if (c != '%' && c != '_' && c != '-') return false;
            var run = 0;
            for (var i = spec.Length - 2; i >= 0 && spec[i] == '%'; i--) run++;
            return run % 2 == 1;
        }

        /// <summary>Expands parsed <paramref name="tokens"/> with the values <paramref name="values"/> gives.</summary>
        public static async Task<string> ExpandAsync(List<Token> tokens, Func<char, Task<string>> values)
        {
            var sb = new StringBuilder();
            foreach (var t in tokens)
            {
                if (t.Letter == 0) { sb.Append(t.Literal); continue; }
                var value = await values(t.Letter).ConfigureAwait(false) ?? "";
                value = Transform(value, t);
                sb.Append(t.Escape ? UrlEscape(value) : value);
            }
            return sb.ToString();
        }

        /// <summary>§7.3: split on the delimiters, optionally reverse, keep the rightmost parts, join with '.'.</summary>
        internal static string Transform(string value, Token t)
        {
            if (t.Digits == 0 && !t.Reverse && t.Split == ".") return value;
            var parts = new List<string>(value.Split(t.Split.ToCharArray()));
            if (t.Reverse) parts.Reverse();
            if (t.Digits > 0 && t.Digits < parts.Count) parts.RemoveRange(0, parts.Count - t.Digits);
            return string.Join(".", parts);
        }

        /// <summary>URL-escapes everything outside RFC 3986's unreserved set (§7.3).</summary>
        internal static string UrlEscape(string value)
        {
            var sb = new StringBuilder();
            foreach (var b in Encoding.UTF8.GetBytes(value))
            {
                var c = (char)b;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
                    sb.Append(c);
                else
                    sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }

        /// <summary>An expanded domain-spec as a name to ask: without the final dot, and with left-hand
        /// labels dropped until it fits in 253 characters (§7.3).</summary>
        public static string TrimDomain(string expanded)
        {
            var d = expanded.EndsWith(".", StringComparison.Ordinal) ? expanded.Substring(0, expanded.Length - 1) : expanded;
            while (d.Length > MaxDomainLength)
            {
                var dot = d.IndexOf('.');
                if (dot < 0) break;
                d = d.Substring(dot + 1);
            }
            return d;
        }
    }
}
