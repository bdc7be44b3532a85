using System.Collections.Generic;
using System.Text;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Builds a <see cref="System.Diagnostics.ProcessStartInfo.Arguments"/> string that the child
    /// sees as exactly the given arguments. netstandard2.0 has no <c>ArgumentList</c>, and no
    /// shell is involved: on Windows the child's C runtime splits the string
    /// (<c>CommandLineToArgvW</c> rules), on Unix .NET splits it with the same rules before
    /// <c>execve</c>. Those rules:
    /// </summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item>arguments are separated by spaces or tabs outside double quotes;</item>
    /// <item>2n backslashes followed by a quote give n backslashes and the quote opens or closes
    /// quoting; 2n+1 backslashes followed by a quote give n backslashes and a literal quote;</item>
    /// <item>backslashes not followed by a quote are literal.</item>
    /// </list>
    /// So an argument that is empty or holds white space or a quote is wrapped in quotes, each
    /// quote in it is preceded by a backslash, and the backslashes before a quote (or before the
    /// closing quote) are doubled. Anything else passes unchanged.
    /// </remarks>
    internal static class CommandLineQuoter
    {
        public static string Join(IEnumerable<string> arguments)
        {
            var sb = new StringBuilder();
            foreach (var argument in arguments)
            {
                if (sb.Length > 0) sb.Append(' ');
                Append(sb, argument ?? "");
            }
            return sb.ToString();
        }

        public static string Quote(string argument)
        {
            var sb = new StringBuilder();
            Append(sb, argument ?? "");
            return sb.ToString();
        }

        static void Append(StringBuilder sb, string argument)
        {
            if (argument.Length > 0 && !NeedsQuotes(argument))
            {
                sb.Append(argument);
                return;
            }
            sb.Append('"');
            for (var i = 0; i < argument.Length; i++)
            {
                var backslashes = 0;
                while (i < argument.Length && argument[i] == '\\')
                {
                    backslashes++;
                    i++;
                }
                if (i == argument.Length)
                {
                    // Before the closing quote: double them so that quote still closes.
                    sb.Append('\\', backslashes * 2);
                    break;
                }
                if (argument[i] == '"')
                {
                    sb.Append('\\', backslashes * 2 + 1);
                    sb.Append('"');
                }
                else
                {
                    sb.Append('\\', backslashes);
                    sb.Append(argument[i]);
                }
            }
            sb.Append('"');
        }

        static bool NeedsQuotes(string argument)
        {
            foreach (var c in argument)
                if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '"')
                    return true;
            return false;
        }
    }
}
