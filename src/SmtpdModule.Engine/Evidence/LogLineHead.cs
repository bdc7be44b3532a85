using System;
using System.Text;

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

        static readonly byte[] TimePrefix = Ascii("{\"time\":\""), EventPrefix = Ascii(",\"event\":\""),
                               SessionPrefix = Ascii(",\"session\":\""), ClientPrefix = Ascii(",\"client\":\"");

        static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);

        /// <summary>Reads the head of the line in <paramref name="line"/>[<paramref name="start"/>, +<paramref name="length"/>), UTF-8.</summary>
        public static bool TryRead(byte[] line, int start, int length, out LogLineHead head)
        {
            head = default;
            int pos = start, end = start + length;
            if (!Member(line, ref pos, end, TimePrefix, out int ts, out int tl)) return false;
            if (!Member(line, ref pos, end, EventPrefix, out int es, out int el)) return false;
            Member(line, ref pos, end, SessionPrefix, out _, out _);   // not filtered on: not decoded
            string client = Member(line, ref pos, end, ClientPrefix, out int cs, out int cl) ? Encoding.UTF8.GetString(line, cs, cl) : null;
            head = new LogLineHead(Encoding.UTF8.GetString(line, ts, tl), Encoding.UTF8.GetString(line, es, el), null, client);
            return true;
        }

        /// <summary>Reads <paramref name="prefix"/> and the string after it when the line goes on so at <paramref name="pos"/>.
        /// UTF-8 never has '"' or '\\' inside a multi-byte character, so bytes are searched as they are.</summary>
        static bool Member(byte[] line, ref int pos, int end, byte[] prefix, out int valueStart, out int valueLength)
        {
            valueStart = valueLength = 0;
            if (pos + prefix.Length > end) return false;
            for (int i = 0; i < prefix.Length; i++)
                if (line[pos + i] != prefix[i]) return false;
            int start = pos + prefix.Length;
            int quote = Array.IndexOf(line, (byte)'"', start, end - start);
            if (quote < 0 || Array.IndexOf(line, (byte)'\\', start, quote - start) >= 0) return false;
            valueStart = start;
            valueLength = quote - start;
            pos = quote + 1;
            return true;
        }
    }
}
