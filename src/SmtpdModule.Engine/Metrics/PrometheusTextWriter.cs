using System;
using System.Globalization;
using System.Text;
using SmtpdModule.Engine.Diagnostics;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// Writes Prometheus's text exposition format, version 0.0.4: per family one <c># HELP</c> and one
    /// <c># TYPE</c> line, then its samples, <c>name{label="value",...} number</c>, one per line.
    /// </summary>
    /// <remarks>
    /// The format's rules, kept here so a caller cannot break them: label values escape backslash,
    /// double quote and line feed; HELP text escapes backslash and line feed; numbers use the
    /// invariant culture, with <c>+Inf</c>, <c>-Inf</c> and <c>NaN</c>; a counter's name ends in
    /// <c>_total</c>; a histogram writes cumulative <c>_bucket{le=...}</c> samples ending at
    /// <c>le="+Inf"</c>, then <c>_sum</c> and <c>_count</c>. Names are checked against the format's
    /// grammar, since a bad name would make the whole scrape fail.
    /// </remarks>
    public sealed class PrometheusTextWriter
    {
        /// <summary>The Content-Type of what this writes.</summary>
        public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

        readonly StringBuilder _sb = new StringBuilder(4096);

        /// <summary>Starts a counter family; <paramref name="name"/> must end in <c>_total</c>.</summary>
        /// <exception cref="ArgumentException">The name is not a metric name, or does not end in <c>_total</c>.</exception>
        public void Counter(string name, string help)
        {
            if (name == null || !name.EndsWith("_total", StringComparison.Ordinal))
                throw new ArgumentException("A counter's name ends in _total: '" + name + "'.", nameof(name));
            Family(name, "counter", help);
        }

        /// <summary>Starts a gauge family.</summary>
        /// <exception cref="ArgumentException">The name is not a metric name, or ends in <c>_total</c>.</exception>
        public void Gauge(string name, string help)
        {
            if (name != null && name.EndsWith("_total", StringComparison.Ordinal))
                throw new ArgumentException("Only a counter's name ends in _total: '" + name + "'.", nameof(name));
            Family(name, "gauge", help);
        }

        /// <summary>A counter family of one sample without labels.</summary>
        /// <exception cref="ArgumentException">The name is not a metric name, or does not end in <c>_total</c>.</exception>
        public void Counter(string name, string help, double value)
        {
            Counter(name, help);
            Sample(name, value);
        }

        /// <summary>A gauge family of one sample without labels.</summary>
        /// <exception cref="ArgumentException">The name is not a metric name, or ends in <c>_total</c>.</exception>
        public void Gauge(string name, string help, double value)
        {
            Gauge(name, help);
            Sample(name, value);
        }

        void Family(string name, string type, string help)
        {
            CheckName(name, nameof(name));
            _sb.Append("# HELP ").Append(name).Append(' ');
            foreach (var c in help ?? "")
            {
                if (c == '\\') _sb.Append("\\\\");
                else if (c == '\n') _sb.Append("\\n");
                else _sb.Append(c);
            }
            _sb.Append('\n');
            _sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }

        /// <summary>One sample without labels.</summary>
        /// <exception cref="ArgumentException">The name is not a metric name.</exception>
        public void Sample(string name, double value) => Sample(name, value, null);

        /// <summary>One sample; <paramref name="labels"/> are name/value pairs, written in the order given.</summary>
        /// <exception cref="ArgumentException">A name is not a metric or label name, or the pairs are odd in number.</exception>
        public void Sample(string name, double value, params string[] labels)
        {
            CheckName(name, nameof(name));
            _sb.Append(name);
            if (labels != null && labels.Length > 0)
            {
                if (labels.Length % 2 != 0) throw new ArgumentException("Labels come in name/value pairs.", nameof(labels));
                _sb.Append('{');
                for (var i = 0; i < labels.Length; i += 2)
                {
                    if (i > 0) _sb.Append(',');
                    AppendLabel(labels[i], labels[i + 1]);
                }
                _sb.Append('}');
            }
            _sb.Append(' ').Append(FormatNumber(value)).Append('\n');
        }

        /// <summary>A whole histogram family: HELP, TYPE, the cumulative buckets, sum and count.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="snapshot"/> is null.</exception>
        /// <exception cref="ArgumentException">The name is not a metric name.</exception>
        public void Histogram(string name, string help, HistogramSnapshot snapshot)
        {
            if (snapshot == null) throw new ArgumentNullException(nameof(snapshot));
            Family(name, "histogram", help);
            var bucket = name + "_bucket";
            for (var i = 0; i <= snapshot.BoundCount; i++)
                Sample(bucket, snapshot.CumulativeCount(i), "le", FormatNumber(snapshot.UpperBound(i)));
            Sample(name + "_sum", snapshot.Sum);
            Sample(name + "_count", snapshot.Count);
        }

        void AppendLabel(string name, string value)
        {
            if (!IsLabelName(name)) throw new ArgumentException("'" + name + "' is not a label name.", nameof(name));
            _sb.Append(name).Append("=\"");
            foreach (var c in value ?? "")
            {
                if (c == '\\') _sb.Append("\\\\");
                else if (c == '"') _sb.Append("\\\"");
                else if (c == '\n') _sb.Append("\\n");
                else _sb.Append(c);
            }
            _sb.Append('"');
        }

        /// <summary>A number as the format writes it: invariant culture, shortest round-trip form, <c>+Inf</c>, <c>-Inf</c>, <c>NaN</c>.</summary>
        public static string FormatNumber(double value)
        {
            if (double.IsNaN(value)) return "NaN";
            if (double.IsPositiveInfinity(value)) return "+Inf";
            if (double.IsNegativeInfinity(value)) return "-Inf";
            return value.ToString("R", CultureInfo.InvariantCulture);
        }

        static void CheckName(string name, string param)
        {
            if (!IsMetricName(name)) throw new ArgumentException("'" + name + "' is not a metric name.", param);
        }

        /// <summary>The format's metric names: <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>.</summary>
        public static bool IsMetricName(string name)
        {
            if (string.IsNullOrEmpty(name)) return false;
            for (var i = 0; i < name.Length; i++)
            {
                var c = name[i];
                var ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9');
                if (!ok) return false;
            }
            return true;
        }

        /// <summary>The format's label names: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, not starting with <c>__</c> (reserved).</summary>
        public static bool IsLabelName(string name)
        {
            if (string.IsNullOrEmpty(name) || name.StartsWith("__", StringComparison.Ordinal)) return false;
            for (var i = 0; i < name.Length; i++)
            {
                var c = name[i];
                var ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
                if (!ok) return false;
            }
            return true;
        }

        /// <summary>Everything written so far.</summary>
        public override string ToString() => _sb.ToString();
    }
}
