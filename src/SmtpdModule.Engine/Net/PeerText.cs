using System.Text;

namespace SmtpdModule.Engine.Net
{
    /// <summary>
    /// The original's two cleaners (reference §7.3): every string a peer supplies is rewritten
    /// before it is logged, matched, stored or passed on, so rules and <c>%</c> substitutions see
    /// the cleaned form. Strings that need no cleaning are returned as they are (no allocation).
    /// </summary>
    public static class PeerText
    {
        /// <summary>For host names (reverse and forward), HELO arguments, ident answers.</summary>
        public static string CleanName(string text) => Clean(text, address: false);

        /// <summary>For MAIL and RCPT arguments. A leading '-' is escaped so an address can never
        /// become an option of a sendmail-style program.</summary>
        public static string CleanAddress(string text) => Clean(text, address: true);

        static bool Passes(char c, bool address)
        {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
            switch (c)
            {
                case ' ': case '-': case '/': case ':': case '=': case '.': case '@': case '_': case '[': case ']':
                    return true;
                case ',': case '!': case '<': case '>': case '(': case ')': case '+': case '%': case '\'': case '"':
                    return address;
                default:
                    return false;
            }
        }

        static bool NeedsCleaning(string text, bool address)
        {
            if (address && text.Length > 0 && text[0] == '-') return true;
            foreach (var c in text)
                if (!Passes(c, address)) return true;
            return false;
        }

        static string Clean(string text, bool address)
        {
            if (text == null || !NeedsCleaning(text, address)) return text;
            var sb = new StringBuilder(text.Length + 16);
            int start = 0;
            if (address && text.Length > 0 && text[0] == '-')
            {
                sb.Append("^-");
                start = 1;
            }
            byte[] utf8 = null;
            for (int i = start; i < text.Length; i++)
            {
                char c = text[i];
                if (c < 0x80) { AppendByte(sb, (byte)c, address); continue; }
                // Non-ASCII: the original saw bytes; each UTF-8 byte is written as ^= and its low seven bits.
                int len = char.IsHighSurrogate(c) && i + 1 < text.Length ? 2 : 1;
                utf8 = Encoding.UTF8.GetBytes(text.Substring(i, len));
                i += len - 1;
                foreach (var b in utf8)
                {
                    sb.Append("^=");
                    AppendByte(sb, (byte)(b & 0x7F), address);
                }
            }
            return sb.ToString();
        }

        static void AppendByte(StringBuilder sb, byte b, bool address)
        {
            char c = (char)b;
            if (Passes(c, address)) { sb.Append(c); return; }
            switch (c)
            {
                case '\n': sb.Append("^n"); return;
                case '\r': sb.Append("^r"); return;
                case '\t': sb.Append("^t"); return;
                case '\b': sb.Append("^b"); return;
                case '^': sb.Append("^^"); return;
            }
            // Shell-dangerous characters and everything else alike: ^x and two lower-case hex digits.
            sb.Append("^x").Append(((int)b).ToString("x2"));
        }

        /// <summary>
        /// True when <paramref name="name"/> parses as an IPv4 address by the permissive
        /// inet_addr rules (<c>10.1.2.3</c>, <c>127.1</c>, <c>0x7f.1</c>, a bare number), or is an IPv6
        /// literal: such a reverse name is matched only as an address (reference §2.2 b1).
        /// </summary>
        public static bool LooksLikeIPAddress(string name)
        {
            if (string.IsNullOrEmpty(name)) return false;
            if (name.IndexOf(':') >= 0 && System.Net.IPAddress.TryParse(name, out _)) return true;
            var parts = name.Split('.');
            if (parts.Length > 4) return false;
            for (int i = 0; i < parts.Length; i++)
            {
                if (!TryParseInetPart(parts[i], out ulong v)) return false;
                ulong max = i < parts.Length - 1 ? 0xFFUL : (0xFFFFFFFFUL >> (8 * (parts.Length - 1)));
                if (v > max) return false;
            }
            return true;
        }

        static bool TryParseInetPart(string p, out ulong value)
        {
            value = 0;
            if (p.Length == 0) return false;
            int radix = 10, i = 0;
            if (p.Length > 1 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) { radix = 16; i = 2; if (p.Length == 2) return true; }
            else if (p.Length > 1 && p[0] == '0') { radix = 8; i = 1; }
            for (; i < p.Length; i++)
            {
                int d = HexValue(p[i]);
                if (d < 0 || d >= radix) return false;
                value = value * (ulong)radix + (ulong)d;
                if (value > 0xFFFFFFFFUL) return false;
            }
            return true;
        }

        static int HexValue(char c) =>
            c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
