using System;

namespace SmtpdModule.Engine.Protocol
{
    /// <summary>
    /// A reverse-path or forward-path (RFC 5321 §4.1.2) as a client sent it: the text the rules
    /// see (brackets included), and the mailbox parts. Parsing is pure.
    /// </summary>
    public sealed class MailPath
    {
        MailPath(string text, string mailbox, string local, string domain, bool hasRoute)
        {
            Text = text;
            Mailbox = mailbox;
            LocalPart = local;
            Domain = domain;
            HasRoute = hasRoute;
        }

        /// <summary>The argument as sent, e.g. <c>&lt;a@example.test&gt;</c>: what the rules and %F/%T see.</summary>
        public string Text { get; }
        /// <summary>The mailbox without brackets or source route; empty for the null path.</summary>
        public string Mailbox { get; }
        public string LocalPart { get; }
        public string Domain { get; }
        public bool HasRoute { get; }
        public bool IsNull => Mailbox.Length == 0;

        public override string ToString() => Text;

        /// <summary>Why a path was refused.</summary>
        public enum Problem { None, Syntax, Routed, NeedsSmtpUtf8 }

        /// <summary>
        /// Parses a path. <paramref name="strict"/> (the default of the proxy) refuses source routes,
        /// '%' and '!' routing and quoted local parts holding '@' — the classic relay tricks — and
        /// anything that is not an RFC 5321 mailbox. Not strict, the text goes to the rules as the
        /// original passed it, checked only for balanced brackets and quotes.
        /// </summary>
        public static Problem TryParse(string text, bool allowNull, bool strict, bool smtpUtf8, out MailPath path)
        {
            path = null;
            if (string.IsNullOrEmpty(text)) return Problem.Syntax;
            foreach (var c in text)
                if (c < 0x20 || c == 0x7F) return Problem.Syntax;
            if (!smtpUtf8)
                foreach (var c in text)
                    if (c > 0x7E) return Problem.NeedsSmtpUtf8;

            string inner = text;
            bool bracketed = text[0] == '<';
            if (bracketed)
            {
                if (text.Length < 2 || text[text.Length - 1] != '>') return Problem.Syntax;
                inner = text.Substring(1, text.Length - 2);
            }
            if (inner.Length == 0)
            {
                if (!allowNull || !bracketed) return Problem.Syntax;
                path = new MailPath(text, "", "", "", false);
                return Problem.None;
            }

            bool hasRoute = inner[0] == '@';
            string mailbox = inner;
            if (hasRoute)
            {
                int colon = IndexOutsideQuotes(inner, ':', 0);
                if (colon < 0) return Problem.Syntax;
                if (strict) return Problem.Routed;
                mailbox = inner.Substring(colon + 1);
            }

            int at = LastIndexOutsideQuotes(mailbox, '@');
            string local = at < 0 ? mailbox : mailbox.Substring(0, at);
            string domain = at < 0 ? "" : mailbox.Substring(at + 1);

            if (!strict)
            {
                if (!BalancedQuotes(inner) || inner.IndexOf(' ') >= 0 && !QuotedSpacesOnly(inner)) return Problem.Syntax;
                path = new MailPath(text, mailbox, local, domain, hasRoute);
                return Problem.None;
            }

            if (at < 0)
            {
                // RFC 5321 §4.5.1: "Postmaster" without a domain must be accepted as a recipient.
                if (string.Equals(mailbox, "postmaster", StringComparison.OrdinalIgnoreCase) && !allowNull)
                {
                    path = new MailPath(text, mailbox, mailbox, "", false);
                    return Problem.None;
                }
                return Problem.Syntax;
            }
            if (local.Length == 0 || local.Length > 64 * 4 || domain.Length > 255 * 4) return Problem.Syntax;

            if (local[0] == '"')
            {
                if (!IsQuotedString(local)) return Problem.Syntax;
                // "a@b"@relay, "a%b"@relay, "b!a"@relay: quoting does not stop a downstream MTA from routing.
                if (local.IndexOfAny(new[] { '@', '%', '!' }) >= 0) return Problem.Routed;
            }
            else
            {
                if (!IsDotString(local)) return local.IndexOf('@') >= 0 ? Problem.Routed : Problem.Syntax;   // a@b@relay
                if (local.IndexOf('%') >= 0 || local.IndexOf('!') >= 0) return Problem.Routed;
            }
            if (!IsDomain(domain)) return Problem.Syntax;
            path = new MailPath(text, mailbox, local, domain, false);
            return Problem.None;
        }

        static bool IsAtext(char c) =>
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c > 0x7F ||
            "!#$%&'*+-/=?^_`{|}~".IndexOf(c) >= 0;

        static bool IsDotString(string s)
        {
            if (s.Length == 0 || s[0] == '.' || s[s.Length - 1] == '.') return false;
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] == '.') { if (s[i - 1] == '.') return false; continue; }
                if (!IsAtext(s[i])) return false;
            }
            return true;
        }

        static bool IsQuotedString(string s)
        {
            if (s.Length < 2 || s[0] != '"' || s[s.Length - 1] != '"') return false;
            for (int i = 1; i < s.Length - 1; i++)
            {
                char c = s[i];
                if (c == '\\') { if (++i >= s.Length - 1) return false; continue; }
                if (c == '"') return false;
            }
            return true;
        }

        static bool IsDomain(string d)
        {
            if (d.Length == 0) return false;
            if (d[0] == '[') return d[d.Length - 1] == ']' && IsAddressLiteral(d.Substring(1, d.Length - 2));
            // Label by label, in place (every MAIL and RCPT comes here).
            for (int start = 0; start <= d.Length; )
            {
                int end = d.IndexOf('.', start);
                if (end < 0) end = d.Length;
                int length = end - start;
                // A trailing dot leaves an empty label: not a domain in SMTP.
                if (length == 0 || length > 63 * 4 || d[start] == '-' || d[end - 1] == '-') return false;
                for (int i = start; i < end; i++)
                {
                    var c = d[i];
                    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c > 0x7F)) return false;
                }
                start = end + 1;
            }
            return true;
        }

        static bool IsAddressLiteral(string s)
        {
            if (s.StartsWith("IPv6:", StringComparison.OrdinalIgnoreCase))
                return System.Net.IPAddress.TryParse(s.Substring(5), out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
            var parts = s.Split('.');
            if (parts.Length != 4) return false;
            foreach (var p in parts)
                if (p.Length == 0 || p.Length > 3 || !int.TryParse(p, out var v) || v > 255 || p[0] == '-' || p[0] == '+') return false;
            return true;
        }

        static int IndexOutsideQuotes(string s, char c, int from)
        {
            bool q = false;
            for (int i = from; i < s.Length; i++)
            {
                if (s[i] == '\\' && q) { i++; continue; }
                if (s[i] == '"') q = !q;
                else if (!q && s[i] == c) return i;
            }
            return -1;
        }

        static int LastIndexOutsideQuotes(string s, char c)
        {
            int found = -1, i = 0;
            while ((i = IndexOutsideQuotes(s, c, i)) >= 0) { found = i; i++; }
            return found;
        }

        static bool BalancedQuotes(string s)
        {
            bool q = false;
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] == '\\' && q) { i++; continue; }
                if (s[i] == '"') q = !q;
            }
            return !q;
        }

        static bool QuotedSpacesOnly(string s)
        {
            bool q = false;
            for (int i = 0; i < s.Length; i++)
            {
                if (s[i] == '\\' && q) { i++; continue; }
                if (s[i] == '"') q = !q;
                else if (s[i] == ' ' && !q) return false;
            }
            return true;
        }
    }
}
