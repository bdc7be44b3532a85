using System;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// The first members of a log line as the writer puts them, without parsing the rest:
    /// <c>{"time":"…","event":"…"</c>, then <c>"session":"…"</c> and <c>"client":"…"</c> when the
    /// event has them (<see cref="Diagnostics.JsonLinesLog.Format"/> writes them in this order, and
    /// nothing else before them). A line of another shape, or with an escape in these values,
    /// is not read here (<see cref="TryRead"/> is false) and gets the full parse.
    /// </summary>
    internal readonly struct LogLineHead
    {
        LogLineHead(string time, string evt, string session, string client)
        {
            Time = time;
            Event = evt;
            Session = session;
            Client = client;
        }

        public string Time { get; }
        public string Event { get; }
        public string Session { get; }
        public string Client { get; }

        /// <summary>The time is in the writer's own form (<c>2026-12-07T01:02:03.1234567Z</c>), which orders as text.</summary>
        public bool TimeIsLogText => Time.Length == 28 && Time[27] == 'Z' && Time[10] == 'T';

        public static bool TryRead(string line, out LogLineHead head)
        {
            head = default;
            int pos = 0;
            if (!Member(line, ref pos, "{\"time\":\"", out var time)) return false;
            if (!Member(line, ref pos, ",\"event\":\"", out var evt)) return false;
            Member(line, ref pos, ",\"session\":\"", out var session);
            Member(line, ref pos, ",\"client\":\"", out var client);
            head = new LogLineHead(time, evt, session, client);
            return true;
        }

        /// <summary>Reads <paramref name="prefix"/> and the string after it when the line goes on so at <paramref name="pos"/>.</summary>
        static bool Member(string line, ref int pos, string prefix, out string value)
        {
            value = null;
            if (pos + prefix.Length > line.Length || string.CompareOrdinal(line, pos, prefix, 0, prefix.Length) != 0) return false;
            int start = pos + prefix.Length;
            int end = line.IndexOf('"', start);
            if (end < 0 || line.IndexOf('\\', start, end - start) >= 0) return false;
            value = line.Substring(start, end - start);
            pos = end + 1;
            return true;
        }
    }
}
