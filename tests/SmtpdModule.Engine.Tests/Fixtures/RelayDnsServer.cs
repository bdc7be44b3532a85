using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A UDP DNS server on 127.0.0.1 that passes every question on to another server (knotd) and
    /// its answer back, except questions under the zones it is told to drop, which it swallows:
    /// a DNSBL that times out beside lists that answer. It counts the questions by name, so a
    /// test can see what reached the DNS.
    /// </summary>
    public sealed class RelayDnsServer : FakeDnsServer
    {
        readonly IPEndPoint _upstream;
        readonly string[] _dropped;
        readonly Dictionary<string, int> _asked = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);

        RelayDnsServer(Socket udp, IPEndPoint upstream, string[] dropped) : base(udp)
        {
            _upstream = upstream;
            _dropped = dropped;
        }

        /// <summary>Relays to <paramref name="upstream"/>; questions for names in <paramref name="dropZones"/> get no answer.</summary>
        public static RelayDnsServer Start(IPEndPoint upstream, params string[] dropZones)
        {
            var server = new RelayDnsServer(BindUdp(), upstream, dropZones.Select(z => z.TrimEnd('.')).ToArray());
            server.Begin();
            return server;
        }

        /// <summary>How many questions for <paramref name="name"/> arrived (any type).</summary>
        public int Asked(string name)
        {
            lock (_asked) return _asked.TryGetValue(name.TrimEnd('.'), out var n) ? n : 0;
        }

        protected override byte[] Reply(byte[] query, int length)
        {
            var name = QuestionName(query, length);
            if (name == null) return null;
            lock (_asked) _asked[name] = (_asked.TryGetValue(name, out var n) ? n : 0) + 1;
            if (_dropped.Any(z => name.Equals(z, StringComparison.OrdinalIgnoreCase) || name.EndsWith("." + z, StringComparison.OrdinalIgnoreCase)))
                return null;
            // One socket per question: replies cannot be mixed up, and the deadline bounds the wait.
            using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 2000 };
            upstream.SendTo(query, 0, length, SocketFlags.None, _upstream);
            var buffer = new byte[65535];
            try
            {
                var n2 = upstream.Receive(buffer);
                var reply = new byte[n2];
                Array.Copy(buffer, reply, n2);
                return reply;
            }
            catch (SocketException)
            {
                return null;
            }
        }

        /// <summary>The first question's name (RFC 1035 section 4.1.2), without the root dot; null when unreadable.</summary>
        static string QuestionName(byte[] q, int length)
        {
            if (length < 13) return null;
            var sb = new StringBuilder();
            int i = 12;
            while (i < length && q[i] != 0)
            {
                int len = q[i];
                if ((len & 0xC0) != 0 || i + 1 + len > length) return null;
                if (sb.Length > 0) sb.Append('.');
                sb.Append(Encoding.ASCII.GetString(q, i + 1, len));
                i += 1 + len;
            }
            return sb.ToString();
        }
    }
}
