using System;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Recognises what no mail client sends at the command level: an HTTP request line (a browser, an
    /// open-proxy probe, a cross-protocol attack from a web page) or a header field (a client that
    /// skipped DATA, or a message pushed at the port). Pure: one line in, yes or no.
    /// </summary>
    public static class NonSmtpCommand
    {
        static readonly string[] HttpVerbs = { "GET", "POST", "CONNECT", "HEAD", "PUT" };

        /// <summary>True for an HTTP verb as the first word, or a header-like <c>Name:</c> start (a
        /// field name, no blank before its colon; <c>MAIL FROM:</c> has one, so it is not).</summary>
        public static bool IsNonSmtp(string line)
        {
            if (string.IsNullOrEmpty(line)) return false;
            int sp = line.IndexOf(' ');
            var first = sp < 0 ? line : line.Substring(0, sp);
            foreach (var v in HttpVerbs)
                if (string.Equals(first, v, StringComparison.OrdinalIgnoreCase)) return true;
            // RFC 5322 §3.6.8: a field name is printable ASCII but ':', then the colon.
            int colon = first.IndexOf(':');
            if (colon <= 0) return false;
            for (int i = 0; i < colon; i++)
                if (first[i] < 0x21 || first[i] > 0x7E) return false;
            // A verb glued to its argument ("MAIL:<a@b>") is a bad command, not a header.
            var known = CommandParser.TryParse(first.Substring(0, colon), out _, out var error);
            return !known && error == Protocol.Replies.UnknownCommand;
        }
    }
}
