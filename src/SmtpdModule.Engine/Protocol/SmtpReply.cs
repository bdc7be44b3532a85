using System;
using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Protocol
{
    /// <summary>A reply line (RFC 5321 §4.2) with its enhanced status code (RFC 3463).</summary>
    public sealed class SmtpReply
    {
        public SmtpReply(int code, string enhanced, string text)
        {
            Code = code;
            Enhanced = enhanced;
            Text = text ?? "";
        }

        public int Code { get; }
        /// <summary>The enhanced status code (<c>5.1.3</c>); null for 220/221 greetings that carry none.</summary>
        public string Enhanced { get; }
        public string Text { get; }
        public bool IsPositive => Code < 400;
        public bool IsPermanent => Code >= 500;

        // Most replies are static and written for every message: their text is made once.
        string _wire, _line;

        /// <summary>The reply on the wire, CRLF included.</summary>
        public string ToWire() => _wire ?? (_wire = Code + " " + (Enhanced == null ? "" : Enhanced + " ") + Text + "\r\n");

        public SmtpReply WithText(string text) => new SmtpReply(Code, Enhanced, text);

        public override string ToString() => _line ?? (_line = ToWire().TrimEnd());

        string[] _lines;

        /// <summary>The reply as a verdict's one line, made once (a verdict's lines are read-only).</summary>
        internal IReadOnlyList<string> Lines => _lines ?? (_lines = new[] { ToString() });

        /// <summary>A multi-line reply: every line but the last has a dash after the code (RFC 5321 §4.2.1).</summary>
        public static string MultiLine(int code, params string[] lines)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < lines.Length; i++)
                sb.Append(code).Append(i == lines.Length - 1 ? ' ' : '-').Append(lines[i]).Append("\r\n");
            return sb.ToString();
        }

        /// <summary>
        /// A reply rendered from a rules file, made safe for the wire: one line, and a dash after
        /// the code (which would announce a continuation that never comes) becomes a space.
        /// </summary>
        public static string RuleReplyToWire(string rendered) => RuleReplyLine(rendered) + "\r\n";

        /// <summary><see cref="RuleReplyToWire"/> without the CRLF: a verdict's line (the same string
        /// when it needs no change).</summary>
        internal static string RuleReplyLine(string rendered)
        {
            var s = rendered ?? "";
            if (s.IndexOf('\r') >= 0 || s.IndexOf('\n') >= 0) s = s.Replace("\r", " ").Replace("\n", " ");
            if (s.Length >= 4 && s[3] == '-') s = s.Substring(0, 3) + " " + s.Substring(4);
            return s;
        }
    }
}
