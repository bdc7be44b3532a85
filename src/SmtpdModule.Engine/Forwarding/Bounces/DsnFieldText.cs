using System;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Forwarding.Bounces
{
    /// <summary>
    /// Makes the values of a delivery-status report safe to write. Diagnostics are whatever a
    /// remote server or a program printed, and addresses and host names reach us from clients and
    /// DNS; none of it may break a line, smuggle a control character to the sender's mail reader,
    /// or put 8-bit text where RFC 3464 wants ASCII.
    /// </summary>
    internal static class DsnFieldText
    {
        /// <summary>Characters of diagnostic text kept; a reply longer than this is noise or an attack.</summary>
        internal const int DiagnosticLimit = 500;

        /// <summary>The most characters of an address kept; RFC 5321 §4.5.3.1.3 allows 256 octets
        /// for a whole path, so only an already invalid address is cut.</summary>
        internal const int AddressLimit = 320;

        const string Ellipsis = "...";

        /// <summary>Text that needs a UTF-8 (RFC 6532/6533) report to be written as it is.</summary>
        public static bool IsAscii(string text)
        {
            if (text == null) return true;
            foreach (var c in text)
                if (c > 0x7E) return false;
            return true;
        }

        /// <summary>One line of free text: controls become spaces, runs of white space one space,
        /// malformed UTF-16 is replaced, and non-ASCII becomes '?' unless <paramref name="utf8"/>.
        /// Longer than <paramref name="limit"/> characters, it is cut and marked with "...".</summary>
        public static string Line(string text, bool utf8, int limit)
        {
            if (string.IsNullOrEmpty(text)) return "";
            var sb = new StringBuilder(Math.Min(text.Length, limit + Ellipsis.Length));
            var pendingSpace = false;
            for (var i = 0; i < text.Length; i++)
            {
                var c = text[i];
                string piece;
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    piece = utf8 ? text.Substring(i, 2) : "?";
                    i++;
                }
                else if (char.IsSurrogate(c)) piece = utf8 ? "\uFFFD" : "?";
                // char.IsControl covers C0, DEL and C1: CR, LF and NUL included.
                else if (char.IsControl(c) || char.IsWhiteSpace(c)) { pendingSpace = sb.Length > 0; continue; }
                else if (c > 0x7E && !utf8) piece = "?";
                else piece = c.ToString();

                var needed = piece.Length + (pendingSpace ? 1 : 0);
                if (sb.Length + needed > limit)
                {
                    sb.Append(Ellipsis);
                    return sb.ToString();
                }
                if (pendingSpace) sb.Append(' ');
                pendingSpace = false;
                sb.Append(piece);
            }
            return sb.ToString();
        }

        /// <summary>A status code as RFC 3463 writes it, <c>class.subject.detail</c>. A failure
        /// reported with a success class, or with something that is not a code, becomes <c>5.0.0</c>
        /// (other undefined status); 4.x.x stays, as for a message that expired in the queue.</summary>
        public static string Status(string status)
        {
            if (status == null) return "5.0.0";
            var parts = status.Trim().Split('.');
            if (parts.Length != 3 || (parts[0] != "4" && parts[0] != "5")) return "5.0.0";
            for (var i = 1; i < 3; i++)
            {
                if (parts[i].Length < 1 || parts[i].Length > 3) return "5.0.0";
                foreach (var c in parts[i])
                    if (c < '0' || c > '9') return "5.0.0";
            }
            return parts[0] + "." + int.Parse(parts[1], CultureInfo.InvariantCulture) + "." + int.Parse(parts[2], CultureInfo.InvariantCulture);
        }

        /// <summary>The diagnostic type as an RFC 3464 atom (<c>smtp</c>, <c>x-unix</c>,
        /// <c>x-local</c>); anything else becomes <c>x-local</c>.</summary>
        public static string DiagnosticType(string type)
        {
            if (string.IsNullOrEmpty(type) || type.Length > 40 || !IsAsciiLetter(type[0])) return "x-local";
            foreach (var c in type)
                if (!IsAsciiLetter(c) && !(c >= '0' && c <= '9') && c != '-') return "x-local";
            return type.ToLowerInvariant();
        }

        /// <summary>A host name for an MTA-name field of type <c>dns</c>: an IDN becomes its
        /// A-labels, and what cannot be in a host name or an address literal (white space, controls,
        /// anything but letters, digits and <c>.-_:[]</c>) is dropped. Null when nothing is left.</summary>
        public static string HostName(string host)
        {
            if (string.IsNullOrWhiteSpace(host)) return null;
            host = host.Trim();
            if (!IsAscii(host))
            {
                try { host = new IdnMapping().GetAscii(host); }
                catch (ArgumentException) { /* not a valid IDN: the filter below drops the rest */ }
            }
            var sb = new StringBuilder(Math.Min(host.Length, 255));
            foreach (var c in host)
            {
                if (sb.Length == 255) break;   // RFC 1035 §2.3.4
                if (IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == ':' || c == '[' || c == ']')
                    sb.Append(c);
            }
            return sb.Length == 0 ? null : sb.ToString();
        }

        /// <summary>Whether <paramref name="host"/> is usable as it is as our own name: what
        /// <see cref="HostName"/> would keep unchanged, and not empty.</summary>
        public static bool IsHostName(string host) =>
            !string.IsNullOrEmpty(host) && IsAscii(host) && HostName(host) == host;

        /// <summary>An address for <c>Final-Recipient</c>: type <c>rfc822</c> with the address when
        /// it is ASCII; otherwise type <c>utf-8</c> (RFC 6533 §3) with the address as
        /// utf-8-addr-unitext, where <c>\</c>, <c>+</c>, <c>=</c> and the space are written
        /// <c>\x{HEX}</c>. Controls become spaces first, as in <see cref="Line"/>.</summary>
        public static string AddressField(string address)
        {
            var clean = Address(address, utf8: true);
            if (IsAscii(clean)) return "rfc822; " + clean;
            var sb = new StringBuilder(clean.Length + 16);
            foreach (var c in clean)
            {
                if (c == '\\' || c == '+' || c == '=' || c == ' ')
                    sb.Append("\\x{").Append(((int)c).ToString("X2", CultureInfo.InvariantCulture)).Append('}');
                else sb.Append(c);
            }
            return "utf-8; " + sb;
        }

        /// <summary>An address for human-readable text and the <c>To:</c> fallback: controls
        /// become spaces (a quoted local part may hold one), non-ASCII is kept only when
        /// <paramref name="utf8"/>.</summary>
        public static string Address(string address, bool utf8) => Line(address, utf8, AddressLimit);

        static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    }
}
