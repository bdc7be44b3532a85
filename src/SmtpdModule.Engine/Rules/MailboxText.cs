using SmtpdModule.Engine.Net;
namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A MAIL FROM or RCPT TO argument as the rules see it (reference §2.3): the cleaned argument as
    /// sent, and for matching only, the text without its angle brackets, split at the LAST '@'.
    /// Nothing else is normalised: no case folding, no source-route, '%' or '!' interpretation.
    /// </summary>
    public sealed class MailboxText
    {
        public MailboxText(string argument)
        {
            Raw = PeerText.CleanAddress(argument ?? "");
            string s = Raw;
            if (s.Length >= 2 && s[0] == '<' && s[s.Length - 1] == '>')
            {
                int start = 1;
                while (start < s.Length - 1 && (s[start] == ' ' || s[start] == '\t')) start++;
                s = s.Substring(start, s.Length - 1 - start);
            }
            Address = s;   // the null sender <> becomes ""
            int at = s.LastIndexOf('@');
            if (at >= 0)
            {
                Local = s.Substring(0, at);
                Domain = s.Substring(at + 1);
            }
        }

        MailboxText(string raw, string address, string local, string domain)
        {
            Raw = raw;
            Address = address;
            Local = local;
            Domain = domain;
        }

        /// <summary>
        /// The rules' view of an address the session has parsed: its parts are the same text when it
        /// needs no cleaning, has plain brackets, an '@', and no route or quotes (nearly every one), so
        /// they are not cut again; any other is read as the constructor reads it.
        /// </summary>
        internal static MailboxText Of(Protocol.MailPath path)
        {
            var text = path.Text;
            var mailbox = path.Mailbox;
            if (!path.HasRoute && text.Length >= 3 && text[0] == '<' && text[text.Length - 1] == '>' && text[1] != ' ' && text[1] != '\t'
                && mailbox.Length == text.Length - 2 && mailbox.IndexOf('"') < 0 && mailbox.IndexOf('@') >= 0
                && ReferenceEquals(PeerText.CleanAddress(text), text))
                return new MailboxText(text, mailbox, path.LocalPart, path.Domain);
            return new MailboxText(text);
        }

        /// <summary>The cleaned argument as sent, brackets included: what <c>%F</c>/<c>%T</c> show.</summary>
        public string Raw { get; }
        /// <summary>The argument without its brackets: what whole-address patterns see.</summary>
        public string Address { get; }
        /// <summary>Left of the last '@'; null when there is no '@'.</summary>
        public string Local { get; }
        /// <summary>Right of the last '@'; null when there is no '@'.</summary>
        public string Domain { get; }
        /// <summary>What <c>NS=</c> examines: the domain, or the whole address when there is no '@'.</summary>
        public string NameServerDomain => Domain ?? Address;

        public override string ToString() => Raw;
    }
}
