using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// Writes every event as one JSON object per line (JSON Lines), appending to a file that
    /// other programs may read while it grows, rotated by size and age (<see cref="RotatingLogFile"/>).
    /// A write error is counted, never thrown: logging must not take the mail path down.
    /// </summary>
    public sealed class JsonLinesLog : IEventSink, IDisposable
    {
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false);
        readonly RotatingLogFile _file;

        /// <param name="path">The log's current file.</param>
        /// <param name="rotation">When it rotates and what is kept; null: the defaults (<see cref="LogRotationOptions"/>).</param>
        /// <param name="clock">The time rotation is measured by; null: the machine's clock.</param>
        /// <exception cref="IOException">The file cannot be opened.</exception>
        /// <exception cref="UnauthorizedAccessException">The file or its folder may not be written.</exception>
        public JsonLinesLog(string path, LogRotationOptions rotation = null, Func<DateTimeOffset> clock = null)
        {
            _file = new RotatingLogFile(path, rotation, clock);
        }

        public string Path => _file.Path;
        /// <summary>Events that could not be written.</summary>
        public long Failures => _file.Failures;
        /// <summary>The file being written and its rotated files.</summary>
        public RotatingLogFile File => _file;

        public void Write(ProxyEvent e)
        {
            // Formatted outside the lock; written whole, with its newline, in one call.
            _file.Append(Utf8.GetBytes(Format(e) + "\n"));
        }

        public static string Format(ProxyEvent e)
        {
            var sb = new StringBuilder(160);
            sb.Append("{\"time\":");
            Str(sb, e.Time.UtcDateTime.ToString("o", CultureInfo.InvariantCulture));
            sb.Append(",\"event\":");
            Str(sb, e.Kind);
            if (e.Session != null) { sb.Append(",\"session\":"); Str(sb, e.Session); }
            if (e.Client != null) { sb.Append(",\"client\":"); Str(sb, e.Client); }
            if (e.Message != null) { sb.Append(",\"message\":"); Str(sb, e.Message); }
            foreach (var kv in e.Data)
            {
                sb.Append(',');
                Str(sb, kv.Key);
                sb.Append(':');
                Value(sb, kv.Value);
            }
            return sb.Append('}').ToString();
        }

        static void Value(StringBuilder sb, object v)
        {
            switch (v)
            {
                case null: sb.Append("null"); break;
                case bool b: sb.Append(b ? "true" : "false"); break;
                case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
                case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
                case double d: sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
                case TimeSpan t: sb.Append(t.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)); break;
                case IEnumerable<KeyValuePair<string, object>> obj:
                    sb.Append('{');
                    bool firstField = true;
                    foreach (var kv in obj) { if (!firstField) sb.Append(','); firstField = false; Str(sb, kv.Key); sb.Append(':'); Value(sb, kv.Value); }
                    sb.Append('}');
                    break;
                case IEnumerable<object> items when !(v is IEnumerable<string>):
                    sb.Append('[');
                    bool firstItem = true;
                    foreach (var item in items) { if (!firstItem) sb.Append(','); firstItem = false; Value(sb, item); }
                    sb.Append(']');
                    break;
                case IEnumerable<string> list:
                    sb.Append('[');
                    bool first = true;
                    foreach (var s in list) { if (!first) sb.Append(','); first = false; if (s == null) sb.Append("null"); else Str(sb, s); }
                    sb.Append(']');
                    break;
                default: Str(sb, Convert.ToString(v, CultureInfo.InvariantCulture)); break;
            }
        }

        static void Str(StringBuilder sb, string s)
        {
            sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < 0x20 || c == 0x7F || (c >= 0xD800 && c <= 0xDFFF && !char.IsSurrogate(c))) sb.Append("\\u").Append(((int)c).ToString("x4"));
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        public void Dispose() => _file.Dispose();
    }

    /// <summary>Sends each event to several sinks.</summary>
    public sealed class EventFanOut : IEventSink
    {
        readonly IEventSink[] _sinks;
        public EventFanOut(params IEventSink[] sinks) { _sinks = sinks; }
        public void Write(ProxyEvent e)
        {
            foreach (var s in _sinks) s?.Write(e);
        }
    }
}
