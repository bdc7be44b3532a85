using System;
using System.Collections.Generic;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>One thing that happened in a proxy or forwarder: a session event or a rule decision.</summary>
    public sealed class ProxyEvent
    {
        public ProxyEvent(string kind, string session, string client, string message, IReadOnlyList<KeyValuePair<string, object>> data = null)
        {
            Time = DateTimeOffset.UtcNow;
            Kind = kind;
            Session = session;
            Client = client;
            Message = message;
            Data = data ?? Empty;
        }

        static readonly KeyValuePair<string, object>[] Empty = new KeyValuePair<string, object>[0];

        public DateTimeOffset Time { get; }
        /// <summary>A stable word: connect, helo, mail, rcpt, decision, data, accepted, rejected, tls, timeout, limit, disconnect, error, start, stop.</summary>
        public string Kind { get; }
        public string Session { get; }
        public string Client { get; }
        public string Message { get; }
        public IReadOnlyList<KeyValuePair<string, object>> Data { get; }

        public override string ToString() => Time.ToString("HH:mm:ss.fff") + " " + (Session ?? "-") + " " + Kind + (Client != null ? " " + Client : "") + (Message != null ? ": " + Message : "");
    }

    /// <summary>Where events go. Implementations must be thread-safe and must not throw.</summary>
    public interface IEventSink
    {
        void Write(ProxyEvent e);
    }
}
