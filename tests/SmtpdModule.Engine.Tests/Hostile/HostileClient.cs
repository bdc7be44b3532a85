using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Tests.Hostile
{
    /// <summary>
    /// The hostile tests measure memory and time, so they run alone: other tests allocating or
    /// holding the thread pool at the same moment would blur the figures.
    /// </summary>
    [CollectionDefinition("hostile", DisableParallelization = true)]
    public sealed class HostileCollection { }

    /// <summary>
    /// A raw client that sends whatever bytes an attacker would and reads replies in bulk (LineClient
    /// reads byte by byte, too slow for ten thousand replies). Every read has a deadline.
    /// </summary>
    public sealed class HostileClient : IDisposable
    {
        readonly Socket _socket;
        Stream _stream;
        readonly byte[] _buffer;
        int _pos, _len;

        HostileClient(Socket socket, int bufferSize)
        {
            _socket = socket;
            _buffer = new byte[bufferSize];
            _stream = new NetworkStream(socket, ownsSocket: false);
        }

        public Socket Socket => _socket;
        public Stream Stream => _stream;

        /// <param name="bufferSize">Replies are read through this buffer; the slowloris test keeps it small,
        /// since a thousand clients live in the same process as the proxy they attack.</param>
        public static async Task<HostileClient> ConnectAsync(IPEndPoint ep, bool greet = true, IPAddress source = null, int bufferSize = 64 * 1024)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            if (source != null) socket.Bind(new IPEndPoint(source, 0));
            await socket.ConnectAsync(ep);
            var c = new HostileClient(socket, bufferSize);
            if (greet)
            {
                Assert.StartsWith("220 ", await c.ReadReplyAsync());
                await c.WriteAsync("EHLO client.example\r\n");
                Assert.StartsWith("250", await c.ReadReplyAsync());
            }
            return c;
        }

        public Task WriteAsync(string ascii) => WriteAsync(Encoding.UTF8.GetBytes(ascii));

        public async Task WriteAsync(byte[] bytes)
        {
            await _stream.WriteAsync(bytes, 0, bytes.Length);
            await _stream.FlushAsync();
        }

        public async Task<string> SendAsync(string line, string expect)
        {
            await WriteAsync(line + "\r\n");
            var reply = await ReadReplyAsync();
            Assert.True(reply != null && reply.StartsWith(expect, StringComparison.Ordinal),
                        "'" + Shorten(line) + "' got '" + reply + "', expected " + expect);
            return reply;
        }

        static string Shorten(string s) => s.Length > 80 ? s.Substring(0, 80) + "…(" + s.Length + " chars)" : s;

        /// <summary>One whole reply (continuation lines joined with LF); null when the server closed.</summary>
        public async Task<string> ReadReplyAsync(int timeoutMs = 10000)
        {
            var sb = new StringBuilder();
            using var cts = new CancellationTokenSource(timeoutMs);
            while (true)
            {
                var line = await ReadLineAsync(cts.Token, sb);
                if (line == null) return sb.Length == 0 ? null : sb.ToString();
                sb.Append(line);
                if (line.Length < 4 || line[3] != '-') return sb.ToString();
                sb.Append('\n');
            }
        }

        async Task<string> ReadLineAsync(CancellationToken ct, StringBuilder soFar)
        {
            while (true)
            {
                int lf = Array.IndexOf(_buffer, (byte)'\n', _pos, _len - _pos);
                if (lf >= 0)
                {
                    int end = lf > _pos && _buffer[lf - 1] == '\r' ? lf - 1 : lf;
                    var s = Encoding.Latin1.GetString(_buffer, _pos, end - _pos);
                    _pos = lf + 1;
                    return s;
                }
                if (_pos > 0)
                {
                    Buffer.BlockCopy(_buffer, _pos, _buffer, 0, _len - _pos);
                    _len -= _pos;
                    _pos = 0;
                }
                if (_len == _buffer.Length) throw new XunitException("reply line longer than " + _buffer.Length + " bytes");
                int n;
                try { n = await _stream.ReadAsync(_buffer.AsMemory(_len), ct); }
                catch (OperationCanceledException) { throw new TimeoutException("no complete reply in time; so far: " + soFar + Encoding.Latin1.GetString(_buffer, 0, _len)); }
                catch (IOException) { n = 0; }
                if (n == 0)
                {
                    if (_len == 0) return null;
                    var rest = Encoding.Latin1.GetString(_buffer, 0, _len);
                    _pos = _len = 0;
                    return rest;
                }
                _len += n;
            }
        }

        /// <summary>True when the server has closed the connection (what it said before is skipped).</summary>
        public async Task<bool> IsClosedAsync(int timeoutMs = 10000)
        {
            var watch = Stopwatch.StartNew();
            while (watch.ElapsedMilliseconds < timeoutMs)
                if (await ReadReplyAsync(timeoutMs) == null) return true;
            return false;
        }

        public void UseStream(Stream s)
        {
            _stream = s;
            _pos = _len = 0;
        }

        public void Dispose()
        {
            try { _stream.Dispose(); } catch (IOException) { }
            _socket.Dispose();
        }
    }

    /// <summary>Memory figures, and the proxy's own account of what a session buffered.</summary>
    public static class Measure
    {
        /// <summary>Managed heap after a full collection, in bytes.</summary>
        public static long Heap() => GC.GetTotalMemory(forceFullCollection: true);

        public static long WorkingSet()
        {
            using var p = Process.GetCurrentProcess();
            p.Refresh();
            return p.WorkingSet64;
        }

        public static string MiB(long bytes) => (bytes / 1048576.0).ToString("0.00") + " MiB";

        public static void Report(ITestOutputHelper output, string what, long heapBefore, long heapAfter, long wsBefore, long wsAfter) =>
            output.WriteLine(what + ": heap " + MiB(heapBefore) + " -> " + MiB(heapAfter) + " (" + MiB(heapAfter - heapBefore)
                             + "), working set " + MiB(wsBefore) + " -> " + MiB(wsAfter) + " (" + MiB(wsAfter - wsBefore) + ")");

        /// <summary>
        /// The most one session held in its buffers, from the proxy's disconnect events (the
        /// proxy logs it per session); waits for <paramref name="sessions"/> to have ended.
        /// </summary>
        public static async Task<int> PeakBufferedAsync(Smtp.TestProxy proxy, int sessions = 1)
        {
            await TestWait.UntilAsync(() => Disconnects(proxy).Count() >= sessions, proxy.Log);
            return Disconnects(proxy).Max(e => Convert.ToInt32(e.Data.First(d => d.Key == "peakBuffered").Value));
        }

        static System.Collections.Generic.IEnumerable<SmtpdModule.Engine.Diagnostics.ProxyEvent> Disconnects(Smtp.TestProxy proxy) =>
            proxy.Events.Where(e => e.Kind == "disconnect" && e.Data != null && e.Data.Any(d => d.Key == "peakBuffered"));

        /// <summary>Files anywhere under the spool (incoming leftovers included, the writer's free
        /// slots not).</summary>
        public static string[] SpoolFiles(Smtp.TestProxy proxy) =>
            Directory.Exists(proxy.SpoolPath)
                ? Directory.GetFiles(proxy.SpoolPath, "*", SearchOption.AllDirectories).Where(f => !Spool.TempSpool.IsFreeSlot(f)).ToArray()
                : Array.Empty<string>();
    }
}
