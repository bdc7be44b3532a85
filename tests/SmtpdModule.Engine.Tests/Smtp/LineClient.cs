using System;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>A raw SMTP client for protocol tests: sends exact bytes, reads whole replies.</summary>
    public sealed class LineClient : IDisposable
    {
        readonly TcpClient _tcp = new TcpClient();
        Stream _stream;
        readonly StringBuilder _pending = new StringBuilder();

        public static async Task<LineClient> ConnectAsync(IPEndPoint ep, bool greet = true)
        {
            var c = new LineClient();
            await c._tcp.ConnectAsync(ep.Address, ep.Port);
            c._stream = c._tcp.GetStream();
            c._stream.ReadTimeout = 10000;
            if (greet)
            {
                Assert.StartsWith("220 ", await c.ReadReplyAsync());
                await c.SendAsync("EHLO client.example", "250");
            }
            return c;
        }

        public Stream Stream => _stream;

        public Task WriteAsync(string raw) => WriteAsync(Encoding.UTF8.GetBytes(raw));

        public async Task WriteAsync(byte[] raw)
        {
            await _stream.WriteAsync(raw, 0, raw.Length);
            await _stream.FlushAsync();
        }

        /// <summary>Sends one command and checks the reply starts with <paramref name="expect"/>.</summary>
        public async Task<string> SendAsync(string line, string expect)
        {
            await WriteAsync(line + "\r\n");
            var reply = await ReadReplyAsync();
            Assert.True(reply.StartsWith(expect), "'" + line + "' got '" + reply + "', expected " + expect);
            return reply;
        }

        /// <summary>Reads one complete reply (all its lines); null at end of stream.</summary>
        public async Task<string> ReadReplyAsync(int timeoutMs = 10000)
        {
            var sb = new StringBuilder();
            while (true)
            {
                var line = await ReadLineAsync(timeoutMs);
                if (line == null) return sb.Length == 0 ? null : sb.ToString();
                sb.Append(line);
                if (line.Length < 4 || line[3] != '-') return sb.ToString();
                sb.Append('\n');
            }
        }

        async Task<string> ReadLineAsync(int timeoutMs)
        {
            var buffer = new byte[1];
            while (true)
            {
                var text = _pending.ToString();
                int nl = text.IndexOf("\r\n", StringComparison.Ordinal);
                if (nl >= 0)
                {
                    _pending.Remove(0, nl + 2);
                    return text.Substring(0, nl);
                }
                var read = _stream.ReadAsync(buffer, 0, 1);
                if (await Task.WhenAny(read, Task.Delay(timeoutMs)) != read) throw new TimeoutException("no reply within " + timeoutMs + " ms; got so far: " + text);
                int n;
                try { n = await read; }
                catch (IOException) { n = 0; }
                if (n == 0) return _pending.Length == 0 ? null : Flush();
                _pending.Append((char)buffer[0]);
            }
        }

        string Flush()
        {
            var s = _pending.ToString();
            _pending.Clear();
            return s;
        }

        /// <summary>True when the server has closed the connection.</summary>
        public async Task<bool> IsClosedAsync(int timeoutMs = 5000) => await ReadReplyAsync(timeoutMs) == null;

        public void UseStream(Stream s) => _stream = s;

        public void Dispose() => _tcp.Dispose();
    }
}
