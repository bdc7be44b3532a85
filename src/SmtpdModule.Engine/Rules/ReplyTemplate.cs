using System;
using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// A reply template (reference §3): <c>%%</c> <c>%C</c> <c>%F</c> <c>%T</c> <c>%H</c> <c>%I</c> <c>%U</c>
    /// substitutions, a leading-digit check, the fixed fallback for bogus templates, and the
    /// 511-character cap. Parsed once; rendered per refusal.
    /// </summary>
    public sealed class ReplyTemplate
    {
        /// <summary>Used when the matching line has no message field.</summary>
        public const string DefaultText = "550 Mail from %F to %T prohibited from your location (%U@%H ip=%I)";
        /// <summary>Sent instead of a bogus template.</summary>
        public const string Fallback = "550 Recipient not allowed";
        /// <summary>The rendered reply is cut here (the original's buffer); CRLF is added by the sender.</summary>
        public const int MaxLength = 511;

        public static readonly ReplyTemplate Default = new ReplyTemplate(DefaultText);

        readonly List<KeyValuePair<char, string>> _parts = new List<KeyValuePair<char, string>>();  // code '\0' = literal

        public ReplyTemplate(string text)
        {
            Text = text ?? "";
            StartsWithDigit = Text.Length > 0 && Text[0] >= '0' && Text[0] <= '9';
            var literal = new StringBuilder();
            for (int i = 0; i < Text.Length; i++)
            {
                char c = Text[i];
                if (c != '%') { literal.Append(c); continue; }
                char code = i + 1 < Text.Length ? Text[i + 1] : '\0';
                i++;
                switch (code)
                {
                    case '%': literal.Append('%'); break;
                    case 'C': literal.Append(':'); break;
                    case 'F': case 'T': case 'H': case 'I': case 'U':
                        Flush(literal);
                        _parts.Add(new KeyValuePair<char, string>(code, null));
                        break;
                    default:
                        // Any other code, or '%' at the end, makes the template bogus -- but only if
                        // rendering reaches it before the cap (reference §3).
                        Flush(literal);
                        _parts.Add(new KeyValuePair<char, string>('!', code == '\0' ? "%" : "%" + code));
                        if (BadCode == null) BadCode = code == '\0' ? "%" : "%" + code;
                        break;
                }
            }
            Flush(literal);
        }

        void Flush(StringBuilder literal)
        {
            if (literal.Length == 0) return;
            _parts.Add(new KeyValuePair<char, string>('\0', literal.ToString()));
            literal.Clear();
        }

        public string Text { get; }
        public bool StartsWithDigit { get; }
        /// <summary>The first unknown <c>%</c> code, or null.</summary>
        public string BadCode { get; }

        /// <summary>Why the template is bogus or suspicious, for a load-time warning; null when it is fine.</summary>
        public string Problem
        {
            get
            {
                if (!StartsWithDigit) return "reply '" + Text + "' does not start with a reply code: '" + Fallback + "' is sent instead";
                if (BadCode != null) return "reply '" + Text + "' uses unknown code '" + BadCode + "' (known: %% %C %F %T %H %I %U): '" + Fallback + "' is sent instead";
                bool code = Text.Length >= 3 && (Text[0] == '4' || Text[0] == '5') && char.IsDigit(Text[1]) && char.IsDigit(Text[2])
                            && (Text.Length == 3 || Text[3] == ' ');
                if (!code) return "reply '" + Text + "' is sent as written but is not a 4xx/5xx reply line";
                return null;
            }
        }

        [ThreadStatic] static StringBuilder t_builder;

        /// <summary>Renders the reply line (without CRLF).</summary>
        /// <remarks>Allocates only the reply itself: a template without codes is returned as
        /// parsed, and the builder is reused per thread.</remarks>
        public string Render(string from, string to, string host, string address, string ident)
        {
            if (!StartsWithDigit) return Fallback;
            if (_parts.Count == 1 && _parts[0].Key == '\0')
                return _parts[0].Value.Length > MaxLength ? _parts[0].Value.Substring(0, MaxLength) : _parts[0].Value;
            var sb = t_builder ?? (t_builder = new StringBuilder(MaxLength + 64));
            sb.Clear();
            foreach (var p in _parts)
            {
                if (sb.Length >= MaxLength) break;
                switch (p.Key)
                {
                    case '\0': sb.Append(p.Value); break;
                    case 'F': sb.Append(from); break;
                    case 'T': sb.Append(to); break;
                    case 'H': sb.Append(host ?? "UNKNOWN"); break;
                    case 'I': sb.Append(address); break;
                    case 'U': sb.Append(ident ?? "UNKNOWN"); break;
                    default: return Fallback;
                }
            }
            if (sb.Length > MaxLength) sb.Length = MaxLength;
            var reply = sb.ToString();
            if (sb.Capacity > 4 * (MaxLength + 64)) t_builder = null;   // a huge substitution: do not keep its buffer
            return reply;
        }

        public override string ToString() => Text;
    }
}
