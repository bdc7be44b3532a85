using System;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Evidence.Report
{
    /// <summary>
    /// Text into HTML. Everything a report shows from a log came off the network (client names, HELO
    /// arguments, senders), so every string is escaped for both text and attribute positions, and
    /// characters that are not allowed in HTML (controls, lone surrogates) are replaced.
    /// </summary>
    internal static class HtmlText
    {
        public static string Escape(string s)
        {
            if (string.IsNullOrEmpty(s)) return "";
            StringBuilder sb = null;
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                string replacement = null;
                switch (c)
                {
                    case '&': replacement = "&amp;"; break;
                    case '<': replacement = "&lt;"; break;
                    case '>': replacement = "&gt;"; break;
                    case '"': replacement = "&quot;"; break;
                    case '\'': replacement = "&#39;"; break;
                    default:
                        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0)) replacement = "\uFFFD";
                        else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                        {
                            sb?.Append(c).Append(s[i + 1]);
                            i++;
                            continue;
                        }
                        else if (char.IsSurrogate(c)) replacement = "\uFFFD";
                        break;
                }
                if (replacement != null)
                {
                    if (sb == null) sb = new StringBuilder(s.Length + 16).Append(s, 0, i);
                    sb.Append(replacement);
                }
                else sb?.Append(c);
            }
            return sb?.ToString() ?? s;
        }

        public static string Number(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

        public static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + " %";

        public static string Seconds(double? seconds)
        {
            if (seconds == null) return "–";
            var s = seconds.Value;
            if (s < 60) return s.ToString("0.#", CultureInfo.InvariantCulture) + " s";
            if (s < 3600) return (s / 60).ToString("0.#", CultureInfo.InvariantCulture) + " min";
            return (s / 3600).ToString("0.#", CultureInfo.InvariantCulture) + " h";
        }

        /// <summary>A time in the report's zone, with its date when <paramref name="withDate"/>.</summary>
        public static string Time(DateTimeOffset t, TimeZoneInfo zone, bool withDate = true) =>
            TimeZoneInfo.ConvertTime(t, zone).ToString(withDate ? "yyyy-MM-dd HH:mm" : "HH:mm", CultureInfo.InvariantCulture);

        /// <summary>"UTC" or "UTC+01:00": the zone's offset at <paramref name="at"/>.</summary>
        public static string Zone(TimeZoneInfo zone, DateTimeOffset at)
        {
            var offset = zone.GetUtcOffset(at);
            if (offset == TimeSpan.Zero) return "UTC";
            return "UTC" + (offset < TimeSpan.Zero ? "-" : "+") + offset.Duration().ToString(@"hh\:mm", CultureInfo.InvariantCulture);
        }

        public static string Interval(TimeSpan t)
        {
            if (t.TotalDays >= 1 && t.Ticks % TimeSpan.TicksPerDay == 0) return Plural((long)t.TotalDays, "day");
            if (t.TotalHours >= 1 && t.Ticks % TimeSpan.TicksPerHour == 0) return Plural((long)t.TotalHours, "hour");
            if (t.TotalMinutes >= 1 && t.Ticks % TimeSpan.TicksPerMinute == 0) return Plural((long)t.TotalMinutes, "minute");
            return t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " seconds";
        }

        static string Plural(long n, string unit) => n.ToString(CultureInfo.InvariantCulture) + " " + unit + (n == 1 ? "" : "s");

        /// <summary>A number for an SVG attribute: invariant, two decimals at most.</summary>
        public static string Coordinate(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);
    }
}
