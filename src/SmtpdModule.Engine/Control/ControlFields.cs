using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Control
{
    /// <summary>
    /// The wire format of the control channel: one request line (<c>status</c>, or
    /// <c>stop &lt;seconds&gt;</c>); the answer is <c>ok</c> or <c>error &lt;text&gt;</c>, then one
    /// <c>name=value</c> line per field, values percent-escaped so that a path with a newline stays
    /// one line, then an empty line. Text, not JSON: the engine has no JSON library and the answer
    /// is a dozen numbers and paths.
    /// </summary>
    public sealed class ControlFields
    {
        readonly Dictionary<string, string> _values = new Dictionary<string, string>(StringComparer.Ordinal);

        public void Add(string name, string value) => _values[name] = value ?? "";
        public void Add(string name, long value) => _values[name] = value.ToString(CultureInfo.InvariantCulture);
        public void Add(string name, DateTimeOffset value) => _values[name] = value.ToString("o", CultureInfo.InvariantCulture);

        public string Text(string name) => _values.TryGetValue(name, out var v) ? v : null;

        public long Number(string name) =>
            _values.TryGetValue(name, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : 0;

        public DateTimeOffset Time(string name) =>
            _values.TryGetValue(name, out var v) && DateTimeOffset.TryParse(v, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t)
                ? t : DateTimeOffset.MinValue;

        /// <summary>The answer: <c>ok</c>, the fields, an empty line.</summary>
        public string ToWire()
        {
            var sb = new StringBuilder("ok\n");
            foreach (var kv in _values)
                sb.Append(kv.Key).Append('=').Append(Uri.EscapeDataString(kv.Value)).Append('\n');
            return sb.Append('\n').ToString();
        }

        /// <summary>Reads the field lines of an answer (after its first line) up to the empty line.</summary>
        internal static ControlFields Parse(IEnumerable<string> lines)
        {
            var fields = new ControlFields();
            foreach (var line in lines)
            {
                if (line.Length == 0) break;
                int eq = line.IndexOf('=');
                if (eq <= 0) continue;
                fields._values[line.Substring(0, eq)] = Uri.UnescapeDataString(line.Substring(eq + 1));
            }
            return fields;
        }
    }
}
