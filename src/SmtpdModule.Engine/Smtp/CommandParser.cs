using System;
using System.Globalization;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Parses one command line (without its CRLF) into a command or the reply that refuses it.
    /// Pure: no state, no I/O. The session decides what a valid command means in its state.
    /// </summary>
    public static class CommandParser
    {
        public static bool TryParse(string line, out SmtpCommand command, out SmtpReply error)
        {
            command = null;
            error = null;
            line = line ?? "";
            int sp = line.IndexOf(' ');
            string verbText = sp < 0 ? line : line.Substring(0, sp);
            string arg = sp < 0 ? "" : line.Substring(sp + 1).Trim(' ', '\t');
            var verb = VerbOf(verbText);
            switch (verb)
            {
                case SmtpVerb.Unknown:
                    error = Replies.UnknownCommand;
                    return false;
                case SmtpVerb.Helo:
                case SmtpVerb.Ehlo:
                    if (arg.Length == 0 || arg.IndexOf(' ') >= 0 && verb == SmtpVerb.Ehlo) { error = Replies.HeloRequiresDomain; return false; }
                    break;
                case SmtpVerb.Data:
                case SmtpVerb.Rset:
                case SmtpVerb.Quit:
                case SmtpVerb.StartTls:
                    if (arg.Length > 0) { error = Replies.SyntaxError; return false; }
                    break;
                case SmtpVerb.Mail:
                    return ParsePathCommand(verb, arg, "FROM:", out command, out error);
                case SmtpVerb.Rcpt:
                    return ParsePathCommand(verb, arg, "TO:", out command, out error);
            }
            command = new SmtpCommand(verb, arg);
            return true;
        }

        static SmtpVerb VerbOf(string v)
        {
            switch (v.ToUpperInvariant())
            {
                case "HELO": return SmtpVerb.Helo;
                case "EHLO": return SmtpVerb.Ehlo;
                case "MAIL": return SmtpVerb.Mail;
                case "RCPT": return SmtpVerb.Rcpt;
                case "DATA": return SmtpVerb.Data;
                case "RSET": return SmtpVerb.Rset;
                case "NOOP": return SmtpVerb.Noop;
                case "QUIT": return SmtpVerb.Quit;
                case "VRFY": return SmtpVerb.Vrfy;
                case "HELP": return SmtpVerb.Help;
                case "STARTTLS": return SmtpVerb.StartTls;
                default: return SmtpVerb.Unknown;
            }
        }

        static bool ParsePathCommand(SmtpVerb verb, string arg, string keyword, out SmtpCommand command, out SmtpReply error)
        {
            command = null;
            error = null;
            if (arg.Length < keyword.Length || string.Compare(arg, 0, keyword, 0, keyword.Length, StringComparison.OrdinalIgnoreCase) != 0)
            {
                error = Replies.SyntaxError;
                return false;
            }
            // Blanks after the colon are tolerated (many clients send them; RFC 5321 does not).
            int i = keyword.Length;
            while (i < arg.Length && (arg[i] == ' ' || arg[i] == '\t')) i++;
            int end = PathEnd(arg, i);
            if (end <= i)
            {
                error = verb == SmtpVerb.Mail ? Replies.BadSenderSyntax : Replies.BadRecipientSyntax;
                return false;
            }
            command = new SmtpCommand(verb, arg) { PathText = arg.Substring(i, end - i) };

            foreach (var p in arg.Substring(end).Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
            {
                if (verb == SmtpVerb.Rcpt || !ApplyMailParameter(command, p)) { error = Replies.BadParameter; command = null; return false; }
            }
            return true;
        }

        /// <summary>End of the path: the '>' that closes it (quotes respected), or the first blank when unbracketed.</summary>
        static int PathEnd(string s, int start)
        {
            if (start >= s.Length) return start;
            if (s[start] != '<')
            {
                int sp = s.IndexOfAny(new[] { ' ', '\t' }, start);
                return sp < 0 ? s.Length : sp;
            }
            bool q = false;
            for (int i = start + 1; i < s.Length; i++)
            {
                if (q && s[i] == '\\') { i++; continue; }
                if (s[i] == '"') q = !q;
                else if (!q && s[i] == '>') return i + 1;
            }
            return -1;
        }

        static bool ApplyMailParameter(SmtpCommand c, string p)
        {
            int eq = p.IndexOf('=');
            string key = (eq < 0 ? p : p.Substring(0, eq)).ToUpperInvariant();
            string value = eq < 0 ? null : p.Substring(eq + 1);
            switch (key)
            {
                case "SIZE":
                    if (value == null || value.Length == 0 || value.Length > 20 ||
                        !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size)) return false;
                    c.DeclaredSize = size;
                    return true;
                case "BODY":
                    if (string.Equals(value, "7BIT", StringComparison.OrdinalIgnoreCase)) c.Body = BodyType.SevenBit;
                    else if (string.Equals(value, "8BITMIME", StringComparison.OrdinalIgnoreCase)) c.Body = BodyType.EightBitMime;
                    else return false;
                    return true;
                case "SMTPUTF8":
                    if (value != null) return false;
                    c.SmtpUtf8 = true;
                    return true;
                default:
                    return false;
            }
        }
    }
}
