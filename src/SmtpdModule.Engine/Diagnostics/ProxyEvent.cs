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
            _data = data ?? Empty;
        }

        /// <summary>An event whose data is built only when a sink reads it: a decision record's fields
        /// cost more than the rest of the session's events, and with no log nothing reads them.
        /// <paramref name="data"/> must capture a snapshot, never live session state.</summary>
        public ProxyEvent(string kind, string session, string client, string message, Func<IReadOnlyList<KeyValuePair<string, object>>> data)
            : this(kind, session, client, message, (IReadOnlyList<KeyValuePair<string, object>>)null)
        {
            _makeData = data;
            _data = null;
        }

        static readonly KeyValuePair<string, object>[] Empty = new KeyValuePair<string, object>[0];
        Func<IReadOnlyList<KeyValuePair<string, object>>> _makeData;
        IReadOnlyList<KeyValuePair<string, object>> _data;

        public DateTimeOffset Time { get; }
        /// <summary>A stable word. Proxy: connect, helo, mail, rcpt, decision, protocol (a failed protocol test), data, accepted, rejected, tls, timeout, limit, disconnect, rules, recipients, dnsbl, error, start, stop. Forwarder: forwarded, deferred, failed, recovered, error, start, stop (its Session is the spool id).</summary>
        public string Kind { get; }
        public string Session { get; }
        public string Client { get; }
        public string Message { get; }
        /// <summary>The fields; built on first read for an event made with a factory (two sinks reading at
        /// once may both build it: the lists are equal, and the reference write is atomic).</summary>
        public IReadOnlyList<KeyValuePair<string, object>> Data
        {
            get
            {
                var data = _data;
                if (data != null) return data;
                data = _makeData() ?? Empty;
                _data = data;
                return data;
            }
        }

        /// <summary>One line for a console: time, session, kind, client, message, then the data as key=value.</summary>
        public override string ToString()
        {
            var sb = new System.Text.StringBuilder();
            sb.Append(Time.ToLocalTime().ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)).Append(' ')
              .Append(Session ?? "-").Append(' ').Append(Kind);
            if (Client != null) sb.Append(' ').Append(Client);
            if (Message != null) sb.Append(": ").Append(Message);
            foreach (var kv in Data)
            {
                if (kv.Value == null) continue;
                var text = kv.Value is System.Collections.Generic.IEnumerable<string> list && !(kv.Value is string)
                    ? string.Join(",", list) : System.Convert.ToString(kv.Value, System.Globalization.CultureInfo.InvariantCulture);
                sb.Append(' ').Append(kv.Key).Append('=').Append(text);
            }
            return sb.ToString();
        }
    }

    /// <summary>Where events go. Implementations must be thread-safe and must not throw.</summary>
    public interface IEventSink
    {
        void Write(ProxyEvent e);
    }
}
