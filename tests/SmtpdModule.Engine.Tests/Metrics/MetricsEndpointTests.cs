using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Metrics;
using Xunit;

namespace SmtpdModule.Engine.Tests.Metrics
{
    /// <summary>The /metrics endpoint over real sockets on 127.0.0.1 port 0, against well-behaved and
    /// hostile clients.</summary>
    public sealed class MetricsEndpointTests
    {
        const string Body = "# HELP t_total A test.\n# TYPE t_total counter\nt_total 1\n";
        static readonly IPEndPoint Loopback0 = new IPEndPoint(IPAddress.Loopback, 0);

        static MetricsEndpoint Start(MetricsEndpointOptions options = null) => MetricsEndpoint.Start(Loopback0, () => Body, options);

        /// <summary>Sends <paramref name="request"/> and reads until the server closes.</summary>
        static async Task<string> ExchangeAsync(IPEndPoint ep, string request)
        {
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(ep.Address, ep.Port);
                var stream = client.GetStream();
                var bytes = Encoding.ASCII.GetBytes(request);
                await stream.WriteAsync(bytes, 0, bytes.Length);
                return await ReadToEndAsync(stream, TimeSpan.FromSeconds(20));
            }
        }

        static async Task<string> ReadToEndAsync(Stream stream, TimeSpan within)
        {
            var all = new MemoryStream();
            var buffer = new byte[4096];
            using (var cts = new CancellationTokenSource(within))
            {
                while (true)
                {
                    int n;
                    try { n = await stream.ReadAsync(buffer, 0, buffer.Length, cts.Token); }
                    catch (IOException) { break; }   // a reset ends it as a close does
                    if (n == 0) break;
                    all.Write(buffer, 0, n);
                }
            }
            return Encoding.UTF8.GetString(all.ToArray());
        }

        [Fact]
        public async Task GET_of_metrics_answers_200_with_the_format_type_length_and_close()
        {
            using (var ep = Start())
            {
                Assert.NotEqual(0, ep.LocalEndPoint.Port);
                var answer = await ExchangeAsync(ep.LocalEndPoint, "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
                Assert.Contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n", answer);
                Assert.Contains("\r\nContent-Length: " + Encoding.UTF8.GetByteCount(Body) + "\r\n", answer);
                Assert.Contains("\r\nConnection: close\r\n", answer);
                Assert.EndsWith("\r\n\r\n" + Body, answer);
            }
        }

        [Fact]
        public async Task HEAD_answers_the_head_without_the_body()
        {
            using (var ep = Start())
            {
                var answer = await ExchangeAsync(ep.LocalEndPoint, "HEAD /metrics HTTP/1.0\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
                Assert.Contains("\r\nContent-Length: " + Encoding.UTF8.GetByteCount(Body) + "\r\n", answer);
                Assert.EndsWith("\r\n\r\n", answer);
            }
        }

        [Theory]
        [InlineData("GET / HTTP/1.1\r\n\r\n", "404")]
        [InlineData("GET /metricsx HTTP/1.1\r\n\r\n", "404")]
        [InlineData("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "405")]
        [InlineData("get /metrics HTTP/1.1\r\n\r\n", "405")]
        [InlineData("GET /metrics HTTP/2.0\r\n\r\n", "505")]
        [InlineData("GET  /metrics HTTP/1.1\r\n\r\n", "400")]
        [InlineData("\u0016\u0003\u0001 hello\n\n", "400")]   // a TLS client hello's first bytes
        public async Task Other_paths_methods_and_malformed_lines_get_their_status(string request, string status)
        {
            using (var ep = Start())
            {
                var answer = await ExchangeAsync(ep.LocalEndPoint, request);
                Assert.StartsWith("HTTP/1.1 " + status + " ", answer);
                Assert.DoesNotContain("t_total", answer);
                if (status == "405") Assert.Contains("\r\nAllow: GET, HEAD\r\n", answer);
            }
        }

        [Fact]
        public async Task A_request_head_over_the_limit_gets_431()
        {
            using (var ep = Start(new MetricsEndpointOptions { MaxRequestHead = 1024 }))
            {
                var answer = await ExchangeAsync(ep.LocalEndPoint, "GET /metrics HTTP/1.1\r\nX-Long: " + new string('a', 2000) + "\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 431 ", answer);
            }
        }

        [Fact]
        public async Task A_client_that_sends_nothing_is_dropped_after_the_read_timeout()
        {
            using (var ep = Start(new MetricsEndpointOptions { ReadTimeout = TimeSpan.FromMilliseconds(300) }))
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(ep.LocalEndPoint.Address, ep.LocalEndPoint.Port);
                var clock = Stopwatch.StartNew();
                var answer = await ReadToEndAsync(client.GetStream(), TimeSpan.FromSeconds(20));
                Assert.Equal("", answer);
                Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(250), "dropped after " + clock.Elapsed);
            }
        }

        [Fact]
        public async Task A_client_that_trickles_its_head_is_dropped_when_the_whole_head_is_late()
        {
            using (var ep = Start(new MetricsEndpointOptions { ReadTimeout = TimeSpan.FromMilliseconds(500) }))
            using (var client = new TcpClient())
            {
                await client.ConnectAsync(ep.LocalEndPoint.Address, ep.LocalEndPoint.Port);
                var stream = client.GetStream();
                var read = ReadToEndAsync(stream, TimeSpan.FromSeconds(20));
                // One byte every 100 ms would keep a per-read timeout happy for ever.
                try
                {
                    for (var i = 0; i < 100 && !read.IsCompleted; i++)
                    {
                        await stream.WriteAsync(new[] { (byte)'G' }, 0, 1);
                        await Task.WhenAny(read, Task.Delay(100));
                    }
                }
                catch (IOException) { }   // the server closed while we wrote: what is tested
                // A write can see the close before the read does: give the read its own time.
                Assert.True(await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10))) == read,
                            "a trickling client is still connected after 10 s");
                Assert.Equal("", await read);
            }
        }

        [Fact]
        public async Task Connections_over_the_cap_are_closed_at_once_and_the_cap_frees_when_they_go()
        {
            using (var ep = Start(new MetricsEndpointOptions { MaxConcurrentScrapes = 2, ReadTimeout = TimeSpan.FromSeconds(30) }))
            {
                var idle = new[] { new TcpClient(), new TcpClient() };
                try
                {
                    foreach (var c in idle) await c.ConnectAsync(ep.LocalEndPoint.Address, ep.LocalEndPoint.Port);
                    // The two idle clients hold the cap (slowloris); a third gets closed without an answer,
                    // long before the 30 s read timeout. The accept may race the second idle client's
                    // registration, so try a few times.
                    var clock = Stopwatch.StartNew();
                    string third;
                    do third = await ExchangeAsync(ep.LocalEndPoint, "GET /metrics HTTP/1.1\r\n\r\n");
                    while (third.Length != 0 && clock.Elapsed < TimeSpan.FromSeconds(10));
                    Assert.Equal("", third);
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15));
                }
                finally { foreach (var c in idle) c.Dispose(); }
                // With the idle clients gone, scrapes are served again.
                var deadline = DateTime.UtcNow.AddSeconds(20);
                string answer;
                do answer = await ExchangeAsync(ep.LocalEndPoint, "GET /metrics HTTP/1.1\r\n\r\n");
                while (!answer.StartsWith("HTTP/1.1 200", StringComparison.Ordinal) && DateTime.UtcNow < deadline);
                Assert.StartsWith("HTTP/1.1 200 OK", answer);
            }
        }

        [Fact]
        public void An_end_point_in_use_fails_with_its_text_as_target()
        {
            using (var first = Start())
            {
                var ex = Assert.Throws<MetricsListenException>(() => MetricsEndpoint.Start(first.LocalEndPoint, () => Body));
                Assert.Equal("127.0.0.1:" + first.LocalEndPoint.Port, ex.Target);
                Assert.IsType<SocketException>(ex.InnerException);
            }
        }

        [Fact]
        public async Task Dispose_closes_the_listener_and_open_connections_within_a_second()
        {
            var ep = Start();
            var client = new TcpClient();
            await client.ConnectAsync(ep.LocalEndPoint.Address, ep.LocalEndPoint.Port);
            var clock = Stopwatch.StartNew();
            ep.Dispose();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), "stopped in " + clock.Elapsed);
            Assert.Equal("", await ReadToEndAsync(client.GetStream(), TimeSpan.FromSeconds(5)));
            client.Dispose();
            using (var again = new TcpClient())
                await Assert.ThrowsAnyAsync<SocketException>(() => again.ConnectAsync(ep.LocalEndPoint.Address, ep.LocalEndPoint.Port));
        }

        [Theory]
        [InlineData("127.0.0.1:9325", true)]
        [InlineData("[::1]:0", true)]
        [InlineData("127.0.0.1", false)]          // the port is required
        [InlineData("localhost:9325", false)]     // an address, not a name to resolve
        [InlineData("127.0.0.1:70000", false)]
        public void Listen_text_is_ip_colon_port(string text, bool ok)
        {
            Assert.Equal(ok, MetricsEndpoint.TryParseListen(text, out var ep, out var why));
            Assert.Equal(ok, ep != null);
            Assert.Equal(ok, why == null);
        }
    }
}
