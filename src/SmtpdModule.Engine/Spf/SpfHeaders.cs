using System.Text;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>
    /// The header fields that carry an SPF result to the mail server behind the proxy and to the
    /// recipient's filters: Received-SPF (RFC 7208 §9.1) and Authentication-Results (RFC 8601).
    /// Everything in them that came from the network (the sender, the HELO name, a record's
    /// mechanism, a problem's text) is reduced to printable ASCII and quoted, so a client or a
    /// domain's records cannot add a field or end the header.
    /// </summary>
    public static class SpfHeaders
    {
        const int MaxValue = 256;

        /// <summary>The Received-SPF field, CRLF-terminated, folded before each key.</summary>
        /// <param name="r">The check.</param>
        /// <param name="clientAddress">The client as the check saw it (the <c>client-ip=</c> key).</param>
        /// <param name="helo">The HELO name (the <c>helo=</c> key).</param>
        /// <param name="receiver">The proxy's host name (the <c>receiver=</c> key).</param>
        public static string ReceivedSpf(SpfCheckResult r, string clientAddress, string helo, string receiver)
        {
            var b = new StringBuilder(256);
            b.Append("Received-SPF: ").Append(Keyword(r.Result)).Append(" (").Append(Comment(receiver + ": " + Describe(r, clientAddress))).Append(')');
            b.Append("\r\n\tclient-ip=").Append(clientAddress).Append(';');
            if (r.Sender != null) b.Append("\r\n\tenvelope-from=").Append(Quoted(r.Sender)).Append(';');
            if (!string.IsNullOrEmpty(helo)) b.Append("\r\n\thelo=").Append(Value(helo)).Append(';');
            b.Append("\r\n\treceiver=").Append(Value(receiver)).Append(';');
            b.Append("\r\n\tidentity=").Append(r.Identity == SpfIdentity.Helo ? "helo" : "mailfrom").Append(';');
            if (r.Mechanism != null) b.Append("\r\n\tmechanism=").Append(Quoted(r.Mechanism)).Append(';');
            if (r.Problem != null) b.Append("\r\n\tproblem=").Append(Quoted(r.Problem)).Append(';');
            return b.Append("\r\n").ToString();
        }

        /// <summary>The Authentication-Results field under <paramref name="authServId"/>, CRLF-terminated.</summary>
        public static string AuthenticationResults(SpfCheckResult r, string authServId)
        {
            var property = r.Identity == SpfIdentity.Helo ? "smtp.helo=" : "smtp.mailfrom=";
            var identity = r.Identity == SpfIdentity.Helo ? r.Domain : r.Sender;
            var b = new StringBuilder(160);
            b.Append("Authentication-Results: ").Append(authServId).Append(";\r\n\tspf=").Append(Keyword(r.Result));
            if (r.Problem != null) b.Append(" (").Append(Comment(r.Problem)).Append(')');
            if (!string.IsNullOrEmpty(identity)) b.Append(' ').Append(property).Append(IsAddress(identity) ? identity : Quoted(identity));
            return b.Append("\r\n").ToString();
        }

        /// <summary>The result as both fields write it (RFC 7208 §2.6, RFC 8601 §2.7.2).</summary>
        public static string Keyword(SpfResult result) => result.ToString().ToLowerInvariant();

        static string Describe(SpfCheckResult r, string ip)
        {
            var who = "domain of " + (r.Sender ?? r.Domain ?? "the sender");
            switch (r.Result)
            {
                case SpfResult.Pass: return who + " designates " + ip + " as permitted sender";
                case SpfResult.Fail: return who + " does not designate " + ip + " as permitted sender";
                case SpfResult.SoftFail: return who + " discourages use of " + ip + " as sender";
                case SpfResult.Neutral: return ip + " is neither permitted nor denied by " + who;
                case SpfResult.None: return who + " publishes no SPF policy";
                case SpfResult.TempError: return "temporary error checking " + who + (r.Problem == null ? "" : ": " + r.Problem);
                default: return "permanent error in the policy of " + who + (r.Problem == null ? "" : ": " + r.Problem);
            }
        }

        /// <summary>Printable ASCII only, bounded; CR, LF and other controls become spaces.</summary>
        static string Printable(string s)
        {
            var b = new StringBuilder(s.Length < MaxValue ? s.Length : MaxValue);
            foreach (var c in s)
            {
                if (b.Length == MaxValue) break;
                b.Append(c >= 0x20 && c < 0x7F ? c : c > 0x7F ? '?' : ' ');
            }
            return b.ToString();
        }

        static string Comment(string s)
        {
            var b = new StringBuilder();
            foreach (var c in Printable(s))
            {
                if (c == '(' || c == ')' || c == '\\') b.Append('\\');
                b.Append(c);
            }
            return b.ToString();
        }

        static string Quoted(string s)
        {
            var b = new StringBuilder("\"");
            foreach (var c in Printable(s))
            {
                if (c == '"' || c == '\\') b.Append('\\');
                b.Append(c);
            }
            return b.Append('"').ToString();
        }

        /// <summary>A dot-atom as it is; anything else quoted.</summary>
        static string Value(string s) => IsDotAtom(s) ? s : Quoted(s);

        static bool IsAddress(string s)
        {
            var at = s.LastIndexOf('@');
            return at > 0 && IsDotAtom(s.Substring(0, at)) && IsDotAtom(s.Substring(at + 1));
        }

        static bool IsDotAtom(string s)
        {
            if (s.Length == 0 || s.Length > MaxValue || s[0] == '.' || s[s.Length - 1] == '.') return false;
            foreach (var c in s)
                if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-/=?^_`{|}~.".IndexOf(c) >= 0)) return false;
            return true;
        }
    }
}
