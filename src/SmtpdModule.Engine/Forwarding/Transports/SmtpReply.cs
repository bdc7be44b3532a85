using System;
using System.Text;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Reads what a server's reply means for a recipient: the outcome from the reply code
    /// (RFC 5321 §4.2.1: 2yz done, 4yz try again, 5yz never), the RFC 3463 status from the
    /// enhanced code the server put in front of its text (RFC 2034) or else from the reply code
    /// alone, and a one-line diagnostic for the DSN.
    /// </summary>
    internal static class SmtpReply
    {
        /// <summary>2xx delivered, 5xx failed; 4xx and anything unexpected (1xx, 3xx where a final
        /// reply was due) deferred, since retrying costs less than a wrong bounce.</summary>
        public static DeliveryOutcome OutcomeOf(int code)
        {
            if (code >= 200 && code < 300) return DeliveryOutcome.Delivered;
            if (code >= 500 && code < 600) return DeliveryOutcome.Failed;
            return DeliveryOutcome.Deferred;
        }

        /// <summary>The enhanced status code at the start of <paramref name="text"/> when it agrees
        /// with the class of <paramref name="code"/>; else <c>c.0.0</c> for the reply's class
        /// (<c>4.0.0</c> for an unexpected class, since the outcome is then Deferred).</summary>
        public static string StatusOf(int code, string text)
        {
            var cls = OutcomeOf(code) == DeliveryOutcome.Deferred ? '4' : (char)('0' + code / 100);
            var enhanced = EnhancedCode(text);
            return enhanced != null && enhanced[0] == cls ? enhanced : cls + ".0.0";
        }

        /// <summary>The same status with its class replaced by 4: for replies we treat as temporary
        /// although the server called them permanent (a 554 greeting from a smart host we are
        /// configured to use).</summary>
        public static string AsTemporary(string status) => "4" + status.Substring(1);

        /// <summary>An RFC 3463 code (<c>class.subject.detail</c>, subject and detail of one to
        /// three digits) followed by a space or the end of the text; null when there is none.</summary>
        public static string EnhancedCode(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            var i = 0;
            if (text[0] != '2' && text[0] != '4' && text[0] != '5') return null;
            i++;
            for (var part = 0; part < 2; part++)
            {
                if (i >= text.Length || text[i] != '.') return null;
                i++;
                var start = i;
                while (i < text.Length && i - start < 4 && text[i] >= '0' && text[i] <= '9') i++;
                if (i == start || i - start > 3) return null;
            }
            if (i < text.Length && text[i] != ' ' && text[i] != '\n' && text[i] != '\r') return null;
            return text.Substring(0, i);
        }

        /// <summary><c>550 5.1.1 No such user</c>: the code and the text, the lines of a multi-line
        /// reply joined by spaces, tabs made spaces, other control characters dropped (the text is the server's, and ends
        /// up in a DSN and in logs).</summary>
        public static string Diagnostic(int code, string text) => code + " " + OneLine(text);

        /// <summary>Collapses line breaks into spaces and drops other control characters.</summary>
        public static string OneLine(string text)
        {
            if (string.IsNullOrEmpty(text)) return "";
            var sb = new StringBuilder(text.Length);
            foreach (var c in text)
            {
                if (c == '\n' || c == '\t') { if (sb.Length > 0 && sb[sb.Length - 1] != ' ') sb.Append(' '); }
                else if (c >= ' ' && c != '\x7f') sb.Append(c);
            }
            return sb.ToString().Trim();
        }
    }
}
