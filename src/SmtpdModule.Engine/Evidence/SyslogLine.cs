using System;
using System.Globalization;
using System.Text.RegularExpressions;

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
        static readonly Regex Shape = new Regex(
            @"^(?:<\d{1,3}>)?(?:(?<mon>[A-Z][a-z]{2}) {1,2}(?<day>\d{1,2}) (?<hms>\d\d:\d\d:\d\d)|(?<iso>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)))"
            + @" (?<host>\S+) (?<tag>[^\s\[:]+)(?:\[(?<pid>\d+)\])?: (?<msg>.*)$",
            RegexOptions.CultureInvariant | RegexOptions.Compiled);

        static readonly string[] Months = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

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
        public static bool IsPostfix(string line)
        {
            var m = Shape.Match(line);
            return m.Success && m.Groups["tag"].Value.StartsWith("postfix", StringComparison.OrdinalIgnoreCase) && m.Groups["tag"].Value.IndexOf('/') > 0;
        }

        /// <summary>Parses a line; false when it is not a syslog line with a time stamp this reader knows.</summary>
        public static bool TryParse(string line, SyslogClock clock, out SyslogLine parsed)
        {
            parsed = default;
            var m = Shape.Match(line);
            if (!m.Success) return false;
            DateTimeOffset time;
            if (m.Groups["iso"].Success)
            {
                var iso = m.Groups["iso"].Value.Replace(' ', 'T');
                if (!DateTimeOffset.TryParse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time)) return false;
            }
            else
            {
                int month = Array.IndexOf(Months, m.Groups["mon"].Value) + 1;
                int day = int.Parse(m.Groups["day"].Value, CultureInfo.InvariantCulture);
                if (month < 1 || day < 1 || day > 31) return false;
                if (!TimeSpan.TryParseExact(m.Groups["hms"].Value, @"hh\:mm\:ss", CultureInfo.InvariantCulture, out var hms) || hms.TotalHours >= 24) return false;
                if (!clock.TryStamp(month, day, hms, out time)) return false;
            }
            parsed = new SyslogLine(time.ToUniversalTime(), m.Groups["host"].Value, m.Groups["tag"].Value, m.Groups["msg"].Value);
            return true;
        }
    }
}
