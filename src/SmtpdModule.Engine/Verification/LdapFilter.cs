using System;
using System.Text;

namespace SmtpdModule.Engine.Verification
{
    /// <summary>
    /// The search filter of <see cref="LdapSource"/>: a template whose <c>{0}</c> placeholders are
    /// replaced by the address, escaped so that no address can change the filter's structure.
    /// </summary>
    public static class LdapFilter
    {
        /// <summary>The placeholder the address replaces, wherever it stands.</summary>
        public const string Placeholder = "{0}";

        /// <summary>Active Directory and Exchange: a recipient's addresses are in proxyAddresses
        /// ("SMTP:" before the primary, "smtp:" before each alias; AD compares them ignoring case, so
        /// "smtp:" finds both), and mail holds the primary of a mail-enabled user or contact.</summary>
        public const string ActiveDirectory = "(|(proxyAddresses=smtp:{0})(mail={0}))";

        /// <summary>
        /// An assertion value escaped as RFC 4515 §3 requires: <c>*</c>, <c>(</c>, <c>)</c>,
        /// <c>\</c> and NUL become <c>\2a</c>, <c>\28</c>, <c>\29</c>, <c>\5c</c> and <c>\00</c>.
        /// Other characters (UTF-8 ones included) are left as they are, which RFC 4515 allows.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
        public static string Escape(string value)
        {
            if (value == null) throw new ArgumentNullException(nameof(value));
            StringBuilder text = null;
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                string escaped;
                switch (c)
                {
                    case '*': escaped = @"\2a"; break;
                    case '(': escaped = @"\28"; break;
                    case ')': escaped = @"\29"; break;
                    case '\\': escaped = @"\5c"; break;
                    case '\0': escaped = @"\00"; break;
                    default: escaped = null; break;
                }
                if (escaped == null) { text?.Append(c); continue; }
                if (text == null) text = new StringBuilder(value, 0, i, value.Length + 8);
                text.Append(escaped);
            }
            return text == null ? value : text.ToString();
        }

        /// <summary>The filter for one address: every placeholder replaced by the escaped address.</summary>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        public static string Build(string template, string address)
        {
            if (template == null) throw new ArgumentNullException(nameof(template));
            return template.Replace(Placeholder, Escape(address));
        }

        /// <summary>
        /// Whether a template can make filters: it names the address (<c>{0}</c>), is one
        /// parenthesized filter, and its parentheses balance. The directory judges the rest (an
        /// attribute it does not know makes checks Unavailable, never Unknown).
        /// </summary>
        /// <param name="template">The template.</param>
        /// <param name="error">Why not, when false.</param>
        public static bool TryValidateTemplate(string template, out string error)
        {
            error = null;
            if (string.IsNullOrWhiteSpace(template)) error = "the filter is empty";
            else if (template.IndexOf(Placeholder, StringComparison.Ordinal) < 0) error = "the filter has no " + Placeholder + " where the address goes";
            else if (template[0] != '(' || template[template.Length - 1] != ')') error = "the filter must be one parenthesized filter, as in (mail={0})";
            else
            {
                var depth = 0;
                for (var i = 0; i < template.Length && error == null; i++)
                {
                    if (template[i] == '\\') { i += 2; continue; }   // an escaped octet: \xx
                    if (template[i] == '(') depth++;
                    // The first character is '(', so depth reaches 0 only at the filter's last ')'.
                    else if (template[i] == ')' && --depth == 0 && i < template.Length - 1)
                        error = "text after the filter's closing ')' at position " + (i + 1);
                }
                if (error == null && depth != 0) error = "the filter's parentheses do not balance";
            }
            return error == null;
        }
    }
}
