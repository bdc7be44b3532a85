using System;
using System.Collections.Generic;
using System.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// Which DNSBL answers count as "listed" for one <c>RBL.</c> token: after the zone, <c>=</c> and a
    /// pattern of four octets, each a number or a bracketed list of numbers and ranges
    /// (<c>127.0.0.[2;4;10..11]</c>, the syntax of Postfix's postscreen_dnsbl_sites), or <c>&amp;</c>
    /// and a mask of four octets: listed when some answer AND the mask is not zero (Exchange's
    /// -BitmaskMatch). No ':' anywhere: it separates the rules file's fields.
    /// </summary>
    public sealed class DnsblFilter
    {
        readonly bool[][] _octets;   // per octet, the values allowed (pattern form)
        readonly uint _mask;         // mask form

        DnsblFilter(string text, bool[][] octets, uint mask)
        {
            Text = text;
            _octets = octets;
            _mask = mask;
        }

        /// <summary>The filter as written, with its '=' or '&amp;'.</summary>
        public string Text { get; }
        public bool IsMask => _octets == null;

        /// <summary>Whether the answer <paramref name="address"/> (an IPv4 address) passes the filter.</summary>
        public bool Matches(IPAddress address)
        {
            var b = address.GetAddressBytes();
            if (b.Length != 4) return false;
            if (IsMask) return ((uint)(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]) & _mask) != 0;
            for (int i = 0; i < 4; i++)
                if (!_octets[i][b[i]]) return false;
            return true;
        }

        /// <summary>Splits <c>zone=pattern</c> or <c>zone&amp;mask</c>.</summary>
        /// <param name="text">The text after <c>RBL.</c>.</param>
        /// <param name="zone">The zone (the text before '=' or '&amp;').</param>
        /// <param name="filter">The filter, or null when the token has none or it is invalid.</param>
        /// <param name="error">Why the filter is invalid; null when valid.</param>
        /// <param name="errorOffset">Where in <paramref name="text"/> the error is.</param>
        public static void Split(string text, out string zone, out DnsblFilter filter, out string error, out int errorOffset)
        {
            filter = null;
            error = null;
            errorOffset = 0;
            int at = text.IndexOfAny(new[] { '=', '&' });
            if (at < 0) { zone = text; return; }
            zone = text.Substring(0, at);
            var spec = text.Substring(at + 1);
            errorOffset = at + 1;
            if (text[at] == '&')
            {
                if (!TryParseQuad(spec, out var mask, out var why, out var off)) { error = "bad DNSBL bitmask '" + spec + "': " + why; errorOffset += off; return; }
                if (mask == 0) { error = "DNSBL bitmask '" + spec + "' is zero: no answer could match"; return; }
                filter = new DnsblFilter(text.Substring(at), null, mask);
                return;
            }
            var octets = new bool[4][];
            int pos = 0;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    if (pos >= spec.Length || spec[pos] != '.') { error = "bad DNSBL answer filter '" + spec + "': four octets separated by '.' expected"; errorOffset += pos; return; }
                    pos++;
                }
                octets[i] = new bool[256];
                var why = ParseOctet(spec, ref pos, octets[i]);
                if (why != null) { error = "bad DNSBL answer filter '" + spec + "': " + why; errorOffset += pos; return; }
            }
            if (pos != spec.Length) { error = "bad DNSBL answer filter '" + spec + "': unexpected '" + spec.Substring(pos) + "'"; errorOffset += pos; return; }
            filter = new DnsblFilter(text.Substring(at), octets, 0);
        }

        // A number, or [item;item;...] where an item is a number or a range a..b.
        static string ParseOctet(string s, ref int pos, bool[] allowed)
        {
            if (pos < s.Length && s[pos] == '[')
            {
                pos++;
                while (true)
                {
                    if (!TryNumber(s, ref pos, out int lo)) return "a number 0-255 expected";
                    int hi = lo;
                    if (pos + 1 < s.Length && s[pos] == '.' && s[pos + 1] == '.')
                    {
                        pos += 2;
                        if (!TryNumber(s, ref pos, out hi)) return "a number 0-255 expected after '..'";
                        if (hi < lo) return "range " + lo + ".." + hi + " is empty";
                    }
                    for (int v = lo; v <= hi; v++) allowed[v] = true;
                    if (pos < s.Length && s[pos] == ';') { pos++; continue; }
                    if (pos < s.Length && s[pos] == ']') { pos++; return null; }
                    return "';' or ']' expected";
                }
            }
            if (!TryNumber(s, ref pos, out int n)) return "a number 0-255 or a [list] expected";
            allowed[n] = true;
            return null;
        }

        static bool TryNumber(string s, ref int pos, out int value)
        {
            value = 0;
            int start = pos;
            while (pos < s.Length && s[pos] >= '0' && s[pos] <= '9' && pos - start < 3) value = value * 10 + (s[pos++] - '0');
            if (pos == start || value > 255 || (pos < s.Length && s[pos] >= '0' && s[pos] <= '9')) { pos = start; return false; }
            return true;
        }

        static bool TryParseQuad(string s, out uint value, out string why, out int offset)
        {
            value = 0;
            why = null;
            int pos = 0;
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    if (pos >= s.Length || s[pos] != '.') { why = "four octets separated by '.' expected"; offset = pos; return false; }
                    pos++;
                }
                if (!TryNumber(s, ref pos, out int n)) { why = "a number 0-255 expected"; offset = pos; return false; }
                value = value << 8 | (uint)n;
            }
            offset = pos;
            if (pos != s.Length) { why = "unexpected '" + s.Substring(pos) + "'"; return false; }
            return true;
        }

        public override string ToString() => Text;
    }
}
