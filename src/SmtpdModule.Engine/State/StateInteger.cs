using System.Globalization;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The integer text an increment accepts, exactly as Redis's string2ll does: an optional '-',
    /// then digits with no leading zero ("0" alone is zero), nothing else; no '+', no spaces, no
    /// "-0". Were it looser (long.TryParse takes " +007"), a counter the embedded store counts
    /// would be an error on Redis.
    /// </summary>
    internal static class StateInteger
    {
        public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

        public static bool TryParse(string text, out long value)
        {
            value = 0;
            if (string.IsNullOrEmpty(text) || text.Length > 20) return false;   // "-9223372036854775808" is 20
            if (text == "0") return true;
            bool negative = text[0] == '-';
            int i = negative ? 1 : 0;
            if (i == text.Length || text[i] < '1' || text[i] > '9') return false;
            ulong magnitude = 0;
            for (; i < text.Length; i++)
            {
                char c = text[i];
                if (c < '0' || c > '9') return false;
                ulong digit = (ulong)(c - '0');
                if (magnitude > (ulong.MaxValue - digit) / 10) return false;
                magnitude = magnitude * 10 + digit;
            }
            if (negative)
            {
                if (magnitude > (ulong)long.MaxValue + 1) return false;
                value = unchecked((long)(0 - magnitude));
            }
            else
            {
                if (magnitude > long.MaxValue) return false;
                value = (long)magnitude;
            }
            return true;
        }
    }
}
