using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A DNS server on 127.0.0.1 that reads every query and never answers, over UDP and TCP
    /// (same port): what a resolver sees when a server is down behind a firewall that drops.
    /// </summary>
    public sealed class BlackholeDnsServer : FakeDnsServer
    {
        readonly TcpListener _tcp;
        readonly List<TcpClient> _held = new List<TcpClient>();

        BlackholeDnsServer(Socket udp, TcpListener tcp) : base(udp)
        {
            _tcp = tcp;
        }

        /// <summary>Binds a free port on 127.0.0.1 for UDP and TCP and starts swallowing queries.</summary>
        public static BlackholeDnsServer Start()
        {
            for (var i = 0; i < 50; i++)
            {
                var udp = BindUdp();
                var tcp = new TcpListener(IPAddress.Loopback, ((IPEndPoint)udp.LocalEndPoint).Port);
                try
                {
                    tcp.Start();
                }
                catch (SocketException)
                {
                    udp.Dispose();   // TCP side of that port is taken: try another port.
                    continue;
                }
                var server = new BlackholeDnsServer(udp, tcp);
                server.Begin();
                _ = server.AcceptLoopAsync();
                return server;
            }
            throw new InvalidOperationException("No loopback port was free for both UDP and TCP.");
        }

        protected override byte[] Reply(byte[] query, int length) => null;

        async Task AcceptLoopAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _tcp.AcceptTcpClientAsync();
                }
                catch (Exception ex) when (ex is ObjectDisposedException || ex is SocketException || ex is InvalidOperationException)
                {
                    return;   // stopped
                }
                lock (_held) _held.Add(client);
                _ = DrainAsync(client);
            }
        }

        async Task DrainAsync(TcpClient client)
        {
            var buffer = new byte[4096];
            var counted = false;
            try
            {
                var stream = client.GetStream();
                int n;
                while ((n = await stream.ReadAsync(buffer, 0, buffer.Length)) > 0)
                {
                    if (!counted)
                    {
                        counted = true;
                        Count();
                    }
                }
            }
            catch (Exception ex) when (ex is ObjectDisposedException || ex is System.IO.IOException || ex is SocketException)
            {
            }
        }

        protected override void Stop()
        {
            _tcp.Stop();
            lock (_held)
            {
                foreach (var c in _held)
                    c.Dispose();
                _held.Clear();
            }
        }
    }

    /// <summary>
    /// A DNS server on 127.0.0.1 (UDP) that answers every query with one response code, SERVFAIL
    /// unless told otherwise: the header is the query's with QR and RA set and the RCODE replaced,
    /// followed by the question; no records.
    /// </summary>
    public sealed class ServfailDnsServer : FakeDnsServer
    {
        readonly int _rcode;

        ServfailDnsServer(Socket udp, int rcode) : base(udp)
        {
            _rcode = rcode;
        }

        /// <summary>Binds a free UDP port on 127.0.0.1 and answers every query with <paramref name="rcode"/>
        /// (2, SERVFAIL, by default; 5 is REFUSED).</summary>
        public static ServfailDnsServer Start(int rcode = 2)
        {
            if (rcode < 0 || rcode > 15)
                throw new ArgumentOutOfRangeException(nameof(rcode));
            var server = new ServfailDnsServer(BindUdp(), rcode);
            server.Begin();
            return server;
        }

        protected override byte[] Reply(byte[] query, int length)
        {
            if (length < 12)
                return null;

            // Keep the header and the first question (RFC 1035 section 4.1.2): its name ends at a zero
            // label (or a pointer, which a query does not use), then QTYPE and QCLASS.
            var end = 12;
            var qdcount = (query[4] << 8) | query[5];
            if (qdcount > 0)
            {
                while (end < length && query[end] != 0 && (query[end] & 0xC0) == 0)
                    end += query[end] + 1;
                end += (end < length && (query[end] & 0xC0) == 0xC0) ? 2 : 1;
                end += 4;
                if (end > length)
                    return null;
            }

            var reply = new byte[end];
            Array.Copy(query, reply, end);
            reply[2] = (byte)(0x80 | (query[2] & 0x79));     // QR, same opcode and RD; AA and TC clear
            reply[3] = (byte)(0x80 | _rcode);                 // RA, Z clear, RCODE
            reply[4] = 0; reply[5] = (byte)(qdcount > 0 ? 1 : 0);
            reply[6] = reply[7] = reply[8] = reply[9] = reply[10] = reply[11] = 0;
            return reply;
        }
    }

    /// <summary>The UDP side shared by the misbehaving servers: count each query, answer it or not.</summary>
    public abstract class FakeDnsServer : IDisposable
    {
        readonly Socket _udp;
        readonly object _gate = new object();
        readonly List<(int Count, TaskCompletionSource<bool> Done)> _waiters = new List<(int, TaskCompletionSource<bool>)>();
        int _queries;
        bool _disposed;

        protected FakeDnsServer(Socket udp)
        {
            _udp = udp;
            EndPoint = (IPEndPoint)udp.LocalEndPoint;
        }

        /// <summary>Starts serving; called once the derived server is fully built.</summary>
        protected void Begin() => _ = ReceiveLoopAsync();

        public IPEndPoint EndPoint { get; }

        /// <summary>Queries received so far (UDP datagrams, plus TCP connections that sent data).</summary>
        public int QueriesReceived
        {
            get { lock (_gate) return _queries; }
        }

        /// <summary>Completes when <paramref name="count"/> queries have arrived; fails after <paramref name="timeout"/>.</summary>
        public async Task WaitForQueriesAsync(int count, TimeSpan timeout)
        {
            TaskCompletionSource<bool> done;
            lock (_gate)
            {
                if (_queries >= count)
                    return;
                done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, done));
            }
            if (await Task.WhenAny(done.Task, Task.Delay(timeout)) != done.Task)
                throw new TimeoutException($"{GetType().Name} on {EndPoint} received {QueriesReceived} queries, not {count}, within {timeout.TotalSeconds} s.");
        }

        protected abstract byte[] Reply(byte[] query, int length);

        protected static Socket BindUdp()
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return udp;
        }

        protected void Count()
        {
            lock (_gate)
            {
                _queries++;
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Count <= _queries)
                    {
                        _waiters[i].Done.TrySetResult(true);
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }

        async Task ReceiveLoopAsync()
        {
            var buffer = new byte[65535];
            while (true)
            {
                SocketReceiveFromResult received;
                try
                {
                    received = await _udp.ReceiveFromAsync(new ArraySegment<byte>(buffer), SocketFlags.None, new IPEndPoint(IPAddress.Any, 0));
                }
                catch (Exception ex) when (ex is ObjectDisposedException || ex is SocketException)
                {
                    if (Volatile.Read(ref _disposed))
                        return;
                    continue;   // e.g. an ICMP error surfacing as ConnectionReset: keep serving
                }

                Count();
                var reply = Reply(buffer, received.ReceivedBytes);
                if (reply == null)
                    continue;
                try
                {
                    await _udp.SendToAsync(new ArraySegment<byte>(reply), SocketFlags.None, received.RemoteEndPoint);
                }
                catch (Exception ex) when (ex is ObjectDisposedException || ex is SocketException)
                {
                    if (Volatile.Read(ref _disposed))
                        return;
                }
            }
        }

        protected virtual void Stop()
        {
        }

        public void Dispose()
        {
            Volatile.Write(ref _disposed, true);
            _udp.Dispose();
            Stop();
        }
    }
}
