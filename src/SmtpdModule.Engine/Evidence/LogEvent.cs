using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// One line of a proxy's or a forwarder's JSON Lines log (the events of
    /// <see cref="Diagnostics.ProxyEvent"/>): a session event, a delivery, a deferral, a bounce, a
    /// start or stop. Decisions come as <see cref="LogDecision"/>, which adds the decision record.
    /// </summary>
    public class LogEvent
    {
        internal LogEvent(string path, long lineNumber, DateTimeOffset time, string kind, string session, string client, string message,
                          IReadOnlyDictionary<string, object> data)
        {
            Path = path;
            LineNumber = lineNumber;
            Time = time;
            Kind = kind;
            Session = session;
            Client = client;
            Message = message;
            Data = data;
        }

        /// <summary>When it happened (UTC).</summary>
        public DateTimeOffset Time { get; }
        /// <summary>The event's word: decision, connect, helo, mail, rcpt, accepted, disconnect ...; the forwarder's forwarded, deferred, failed ...</summary>
        public string Kind { get; }
        /// <summary>The proxy's session id; the forwarder's spool id.</summary>
        public string Session { get; }
        /// <summary>The client's address; null for events of no session.</summary>
        public string Client { get; }
        public string Message { get; }
        /// <summary>The event's other fields, by name, as the log holds them (strings, longs, doubles, booleans, lists, nested dictionaries).</summary>
        public IReadOnlyDictionary<string, object> Data { get; }
        /// <summary>The file it was read from, and its line there (from 1).</summary>
        public string Path { get; }
        public long LineNumber { get; }

        public override string ToString() => Time.UtcDateTime.ToString("o", System.Globalization.CultureInfo.InvariantCulture) + " " + Kind
                                             + (Session != null ? " " + Session : "") + (Message != null ? ": " + Message : "");
    }
}
