using System;
using System.Globalization;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// One syslog line split into time, host, program tag, pid and message. Two stamps occur in mail
    /// logs: the traditional BSD one (RFC 3164: "Dec  7 00:55:07", local time, no year) and RFC 3339
    /// ("2026-12-07T00:55:07.123456+00:00", rsyslog's high-precision format and journald's short-iso).
    /// Parsing is pure; the year and zone of traditional stamps come from a <see cref="SyslogClock"/>.
    /// </summary>
    internal readonly struct SyslogLine
    {
        static readonly string[] Months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
        static readonly string[] IsoFormats =
        {
            "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss'Z'",
        };

        SyslogLine(DateTimeOffset time, string host, string tag, string message)
        {
            Time = time;
            Host = host;
            Tag = tag;
            Message = message;
        }

        public DateTimeOffset Time { get; }
        public string Host { get; }
        /// <summary>"postfix/smtpd", "postfix/submission/smtpd", "postfix-out/qmgr".</summary>
        public string Tag { get; }
        public string Message { get; }

        /// <summary>The program: the tag's last part ("smtpd").</summary>
        public string Program => Tag.Substring(Tag.LastIndexOf('/') + 1);

        /// <summary>The instance: the tag's first part ("postfix", "postfix-out"). Queue ids are unique only within one.</summary>
        public string Instance => Tag.IndexOf('/') < 0 ? Tag : Tag.Substring(0, Tag.IndexOf('/'));

        /// <summary>Whether <paramref name="line"/> looks like a syslog line of a Postfix program (used to tell the format).</summary>
        public static bool IsPostfix(string line) =>
            TryParse(line, new SyslogClock(2000, TimeZoneInfo.Utc, DateTimeOffset.UtcNow), out var parsed)
            && parsed.Tag.StartsWith("postfix", StringComparison.OrdinalIgnoreCase) && parsed.Tag.IndexOf('/') > 0;

        /// <summary>Parses a line; false when it is not a syslog line with a time stamp this reader knows.</summary>
        /// <remarks>By hand rather than one regular expression: it runs on every line of logs of gigabytes.</remarks>
        public static bool TryParse(string line, SyslogClock clock, out SyslogLine parsed)
        {
            parsed = default;
            int i = 0;
            if (line.Length > 0 && line[0] == '<')   // a priority, when syslog wrote the raw packet
            {
                int close = line.IndexOf('>');
                if (close < 2 || close > 4) return false;
                i = close + 1;
            }
            DateTimeOffset time;
            int space = line.IndexOf(' ', i);
            if (space < 0) return false;
            if (i < line.Length && line[i] >= '0' && line[i] <= '9')
            {
                if (!DateTimeOffset.TryParseExact(line.Substring(i, space - i), IsoFormats, CultureInfo.InvariantCulture,
                        DateTimeStyles.AssumeUniversal, out time)) return false;
                i = space + 1;
            }
            else
            {
                // "Dec  7 00:55:07" or "Dec 07 00:55:07".
                if (space - i != 3) return false;
                int month = Array.IndexOf(Months, line.Substring(i, 3)) + 1;
                if (month < 1) return false;
                i = space + 1;
                if (i < line.Length && line[i] == ' ') i++;
                int day = 0, digits = 0;
                while (i < line.Length && line[i] >= '0' && line[i] <= '9' && digits < 2) { day = day * 10 + line[i++] - '0'; digits++; }
                if (digits == 0 || day < 1 || day > 31 || i + 9 > line.Length || line[i] != ' ' || line[i + 9] != ' ') return false;
                if (!TryTwo(line, i + 1, out var h) || line[i + 3] != ':' || !TryTwo(line, i + 4, out var m) || line[i + 6] != ':' || !TryTwo(line, i + 7, out var sec)
                    || h > 23 || m > 59 || sec > 60) return false;
                if (!clock.TryStamp(month, day, new TimeSpan(h, m, Math.Min(sec, 59)), out time)) return false;
                i += 10;
            }
            // host, then tag[pid]: message
            space = line.IndexOf(' ', i);
            if (space <= i) return false;
            var host = line.Substring(i, space - i);
            i = space + 1;
            int t = i;
            while (t < line.Length && line[t] != '[' && line[t] != ':' && line[t] != ' ') t++;
            if (t == i || t >= line.Length) return false;
            var tag = line.Substring(i, t - i);
            if (line[t] == '[')
            {
                int close = line.IndexOf(']', t);
                if (close < 0) return false;
                for (int d = t + 1; d < close; d++)
                    if (line[d] < '0' || line[d] > '9') return false;
                t = close + 1;
            }
            if (t + 1 >= line.Length || line[t] != ':' || line[t + 1] != ' ') return false;
            parsed = new SyslogLine(time.ToUniversalTime(), host, tag, line.Substring(t + 2));
            return true;
        }

        static bool TryTwo(string s, int at, out int value)
        {
            value = 0;
            if (at + 1 >= s.Length || s[at] < '0' || s[at] > '9' || s[at + 1] < '0' || s[at + 1] > '9') return false;
            value = (s[at] - '0') * 10 + (s[at + 1] - '0');
            return true;
        }
    }
}
