using System;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>How <see cref="TrafficLog"/> reads a log; every setting has a default that suits a log read where it was written.</summary>
    public sealed class TrafficLogOptions
    {
        /// <summary>Postfix's traditional syslog time stamps ("Dec  7 00:55:07") carry no year: the
        /// year of the log's first line. Null: the current year, or the last one when the first line
        /// would otherwise lie in the future (a December log read in January). Either way the year
        /// goes up where the months wrap from December to January.</summary>
        public int? Year { get; set; }

        /// <summary>The zone of traditional syslog time stamps, which carry no offset; null for the
        /// machine's local zone (syslog writes local time). RFC 3339 stamps carry their own offset.</summary>
        public TimeZoneInfo TimeZone { get; set; }

        /// <summary>Postfix: how many accepted messages may wait for their delivery lines at once.
        /// Beyond it the oldest are dropped (counted in <see cref="TrafficLogStats.Evicted"/>), so a
        /// log with lost lines cannot grow memory without bound.</summary>
        public int MaxPendingMessages { get; set; } = 50000;

        /// <summary>Filled in while the records are enumerated; null when nobody asks.</summary>
        public TrafficLogStats Stats { get; set; }

        /// <summary>Called for each line passed over as unparseable, on the enumerating thread.</summary>
        public Action<SkippedLine> Skipped { get; set; }

        /// <summary>A line passed over: counted in <paramref name="stats"/> and told to <see cref="Skipped"/>.</summary>
        internal void Skip(TrafficLogStats stats, long number, string line, string problem)
        {
            stats.Skip(number, line, problem);
            Skipped?.Invoke(new SkippedLine(number, line, problem));
        }

        /// <summary>The "now" the default <see cref="Year"/> is judged by; tests fix it.</summary>
        internal DateTimeOffset? Now { get; set; }
    }
}
