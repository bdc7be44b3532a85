using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// A line chart of counts over a report's intervals as inline SVG: no script, no external font or
    /// image, so it draws in a browser and in a mail client that shows SVG; the table beside it carries
    /// the same numbers for one that does not. One marker per interval and series
    /// (<c>circle.point</c>, <c>data-series</c>, <c>data-value</c>), each with a tooltip.
    /// </summary>
    internal sealed class SvgTimeChart
    {
        const double Width = 960, Height = 280, Left = 56, Right = 16, Top = 30, Bottom = 40;

        public sealed class Series
        {
            public Series(string name, string label, string color, Func<ReportBucket, long> value)
            {
                Name = name;
                Label = label;
                Color = color;
                Value = value;
            }

            public string Name { get; }
            public string Label { get; }
            public string Color { get; }
            public Func<ReportBucket, long> Value { get; }
        }

        public static void Write(StringBuilder html, string id, string title, IReadOnlyList<ReportBucket> buckets, TimeZoneInfo zone, params Series[] series)
        {
            var n = buckets.Count;
            var max = Math.Max(1, series.Max(s => buckets.Count == 0 ? 0 : buckets.Max(s.Value)));
            var top = NiceCeiling(max);
            var plotW = Width - Left - Right;
            var plotH = Height - Top - Bottom;
            double X(int i) => Left + (i + 0.5) * plotW / Math.Max(1, n);
            double Y(long v) => Top + plotH - v * plotH / top;
            var withDate = buckets.Count > 0 && buckets[n - 1].End - buckets[0].Start > TimeSpan.FromDays(1);

            html.Append("<svg class=\"chart\" data-chart=\"").Append(id).Append("\" data-points=\"").Append(n)
                .Append("\" viewBox=\"0 0 ").Append(Width).Append(' ').Append(Height).Append("\" width=\"100%\" role=\"img\" aria-label=\"")
                .Append(HtmlText.Escape(title)).Append("\" xmlns=\"http://www.w3.org/2000/svg\">");
            // Grid and y axis: 0, half and the top.
            foreach (var v in new[] { 0, top / 2, top })
            {
                var y = HtmlText.Coordinate(Y(v));
                html.Append("<line class=\"grid\" x1=\"").Append(Left).Append("\" x2=\"").Append(Width - Right).Append("\" y1=\"").Append(y).Append("\" y2=\"").Append(y).Append("\"/>")
                    .Append("<text class=\"axis\" x=\"").Append(Left - 6).Append("\" y=\"").Append(y).Append("\" text-anchor=\"end\" dominant-baseline=\"middle\">")
                    .Append(HtmlText.Number(v)).Append("</text>");
            }
            // About seven time labels, whatever the number of intervals.
            var step = Math.Max(1, (int)Math.Ceiling(n / 7.0));
            for (var i = 0; i < n; i += step)
                html.Append("<text class=\"axis\" x=\"").Append(HtmlText.Coordinate(X(i))).Append("\" y=\"").Append(Height - Bottom + 18)
                    .Append("\" text-anchor=\"middle\">").Append(HtmlText.Time(buckets[i].Start, zone, withDate)).Append("</text>");
            // Legend.
            double lx = Left;
            foreach (var s in series)
            {
                html.Append("<rect x=\"").Append(HtmlText.Coordinate(lx)).Append("\" y=\"8\" width=\"12\" height=\"12\" fill=\"").Append(s.Color).Append("\"/>")
                    .Append("<text class=\"legend\" x=\"").Append(HtmlText.Coordinate(lx + 16)).Append("\" y=\"18\">").Append(HtmlText.Escape(s.Label)).Append("</text>");
                lx += 40 + 7.5 * s.Label.Length;
            }
            foreach (var s in series)
            {
                html.Append("<polyline fill=\"none\" stroke-width=\"2\" stroke=\"").Append(s.Color).Append("\" points=\"");
                for (var i = 0; i < n; i++)
                    html.Append(i == 0 ? "" : " ").Append(HtmlText.Coordinate(X(i))).Append(',').Append(HtmlText.Coordinate(Y(s.Value(buckets[i]))));
                html.Append("\"/>");
                for (var i = 0; i < n; i++)
                {
                    var v = s.Value(buckets[i]);
                    html.Append("<circle class=\"point\" data-series=\"").Append(s.Name).Append("\" data-value=\"").Append(v)
                        .Append("\" cx=\"").Append(HtmlText.Coordinate(X(i))).Append("\" cy=\"").Append(HtmlText.Coordinate(Y(v)))
                        .Append("\" r=\"").Append(n > 200 ? "1.5" : "3").Append("\" fill=\"").Append(s.Color).Append("\"><title>")
                        .Append(HtmlText.Time(buckets[i].Start, zone)).Append(": ").Append(HtmlText.Number(v)).Append(' ').Append(HtmlText.Escape(s.Label.ToLowerInvariant()))
                        .Append("</title></circle>");
                }
            }
            html.Append("</svg>\n");
        }

        /// <summary>The smallest of 1, 2, 5 times a power of ten at or above <paramref name="max"/>, and even, so its half is a whole number.</summary>
        static long NiceCeiling(long max)
        {
            long power = 1;
            while (true)
            {
                foreach (var m in new[] { 2L, 5L, 10L })
                    if (m * power >= max) return m * power;
                power *= 10;
            }
        }
    }
}
