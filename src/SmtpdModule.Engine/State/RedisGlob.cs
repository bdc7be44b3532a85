using System.Text;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// Turns literal text into a Redis glob (SCAN MATCH, KEYS) that matches exactly that text:
    /// a backslash before each character the matcher treats specially (util.c stringmatchlen:
    /// <c>* ? [ ] \</c>; <c>^</c> and <c>-</c> mean something only inside brackets, which the
    /// escaped <c>[</c> never opens). Without it, a key prefix such as "grey:[10.0.0.1]" would
    /// match other keys, or none.
    /// </summary>
    internal static class RedisGlob
    {
        public static string Escape(string literal)
        {
            var glob = new StringBuilder(literal.Length + 8);
            foreach (char c in literal)
            {
                if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') glob.Append('\\');
                glob.Append(c);
            }
            return glob.ToString();
        }

        /// <summary>Every key that starts with <paramref name="prefix"/>.</summary>
        public static string StartingWith(string prefix) => Escape(prefix) + "*";
    }
}
