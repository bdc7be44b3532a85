using System;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// Gives traditional syslog stamps, which have neither year nor zone, a full time. The first
    /// stamp takes the configured year (or the current one, or last year's when that would put it
    /// in the future); after it, a stamp more than half a year before the previous one is in the
    /// next year (December to January), and one more than half a year after it is a late line from
    /// the year before, which moves nothing. One instance per log, read in order.
    /// </summary>
    internal sealed class SyslogClock
    {
        static readonly TimeSpan HalfYear = TimeSpan.FromDays(183);
        readonly TimeZoneInfo _zone;
        readonly DateTimeOffset _now;
        int? _year;
        DateTime? _last;

        public SyslogClock(int? year, TimeZoneInfo zone, DateTimeOffset now)
        {
            _year = year;
            _zone = zone ?? TimeZoneInfo.Local;
            _now = now;
        }

        public bool TryStamp(int month, int day, TimeSpan timeOfDay, out DateTimeOffset time)
        {
            time = default;
            if (_year == null)
            {
                var nowLocal = TimeZoneInfo.ConvertTime(_now, _zone).DateTime;
                _year = nowLocal.Year;
                // A stamp more than a day ahead of now was written last year (a December log read in January).
                if (TryLocal(_year.Value, month, day, timeOfDay, out var guess) && guess > nowLocal.AddDays(1)) _year--;
            }
            if (!TryLocal(_year.Value, month, day, timeOfDay, out var local))
            {
                // 29 February of a year that has none: a wrong year guess, or a garbled line.
                return false;
            }
            if (_last != null && local < _last.Value - HalfYear && TryLocal(_year.Value + 1, month, day, timeOfDay, out var next))
            {
                _year++;
                local = next;
            }
            else if (_last != null && local > _last.Value + HalfYear && TryLocal(_year.Value - 1, month, day, timeOfDay, out var previous))
            {
                local = previous;   // a line from before the year changed, logged late
                time = new DateTimeOffset(local, _zone.GetUtcOffset(local));
                return true;
            }
            _last = local;
            time = new DateTimeOffset(local, _zone.GetUtcOffset(local));
            return true;
        }

        static bool TryLocal(int year, int month, int day, TimeSpan timeOfDay, out DateTime local)
        {
            local = default;
            if (year < 1 || year > 9998 || day > DateTime.DaysInMonth(year, month)) return false;
            local = new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Unspecified) + timeOfDay;
            return true;
        }
    }
}
