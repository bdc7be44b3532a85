using System.Text.RegularExpressions;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// What the downstream's reply to a probe's <c>RCPT TO</c> says of the mailbox. Pure, so the
    /// rule is tested on its own: refusing a real user as unknown loses mail, so only an answer
    /// that names the mailbox counts as "no such user".
    /// </summary>
    /// <remarks>
    /// <para>250 and 251 are Known (RFC 5321 §4.2.2). A 5xx is Unknown only when its enhanced
    /// status code (RFC 3463) is 5.1.x, an addressing status, except 5.1.7 and 5.1.8, which are
    /// about the sender: a server that refuses the probe's null sender at RCPT says nothing of
    /// the user. Every other 5xx (5.7.1 relaying denied, 5.2.2 mailbox full, 5.4.x routing),
    /// every 4xx and anything else is Unavailable.</para>
    /// <para>A reply without an enhanced code: a server that announced ENHANCEDSTATUSCODES and
    /// omitted it is not trusted (Unavailable); from a server without them, only 550 (RFC 5321:
    /// "mailbox unavailable") means Unknown; 551, 553 and the rest are Unavailable. A code in
    /// the text is read even when the server did not announce the extension (aiosmtpd and many
    /// small servers send codes without announcing them); its class must match the reply's.</para>
    /// </remarks>
    internal static class CallaheadReply
    {
        static readonly Regex Enhanced = new Regex(@"^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)", RegexOptions.CultureInvariant);

        public static MailboxStatus Classify(int code, string text, bool enhancedCodesOffered)
        {
            if (code == 250 || code == 251) return MailboxStatus.Known;
            if (code < 500 || code > 599) return MailboxStatus.Unavailable;
            var m = Enhanced.Match(text ?? "");
            if (m.Success && m.Groups[1].Value == "5")
            {
                var detail = m.Groups[3].Value;
                return m.Groups[2].Value == "1" && detail != "7" && detail != "8"
                    ? MailboxStatus.Unknown
                    : MailboxStatus.Unavailable;
            }
            if (m.Success || enhancedCodesOffered) return MailboxStatus.Unavailable;
            return code == 550 ? MailboxStatus.Unknown : MailboxStatus.Unavailable;
        }

        /// <summary>A reply as one bounded line for a detail: "550 5.1.1 No such user".</summary>
        public static string Describe(int code, string text)
        {
            var line = (text ?? "").Replace("\r\n", " ").Replace("\r", " ").Replace("\n", " ");
            if (line.Length > 200) line = line.Substring(0, 200) + "…";
            return code + " " + line;
        }
    }
}
