using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>Label values made from the engine's enum names, in the snake case Prometheus's own
    /// exporters use: <c>DefaultNoMatch</c> becomes <c>default_no_match</c>.</summary>
    public static class LabelText
    {
        /// <summary><paramref name="name"/> in snake case (an underscore before each inner capital, all lower case).</summary>
        public static string Snake(string name)
        {
            if (string.IsNullOrEmpty(name)) return name ?? "";
            var sb = new StringBuilder(name.Length + 4);
            for (var i = 0; i < name.Length; i++)
            {
                var c = name[i];
                if (char.IsUpper(c) && i > 0) sb.Append('_');
                sb.Append(char.ToLowerInvariant(c));
            }
            return sb.ToString();
        }

        /// <summary>A whole number as a label value (a rule line).</summary>
        public static string Of(int value) => value.ToString(CultureInfo.InvariantCulture);
    }
}
