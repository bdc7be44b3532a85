using System;
using System.Diagnostics;
using System.IO;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp.Tls;
using Xunit;

namespace SmtpdModule.Engine.Tests.Tls
{
    /// <summary>One test certificate, loaded the way the receiver loads it, for every handshake test.</summary>
    public sealed class ServerCertificateFixture : IDisposable
    {
        public ServerCertificateFixture()
        {
            Files = TestCertificates.Create();
            Certificate = ServerCertificate.FromPfx(Files.PfxPath, Files.Password);
        }

        public TestCertificates Files { get; }
        public X509Certificate2 Certificate { get; }

        public void Dispose()
        {
            Certificate.Dispose();
            Files.Dispose();
        }
    }

    /// <summary>The server side of STARTTLS over real loopback TCP connections, against .NET's own
    /// client SslStream and against clients that send garbage, nothing, or hang up.</summary>
    public sealed class TlsUpgradeTests : IClassFixture<ServerCertificateFixture>
    {
        static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
        static readonly byte[] PartialClientHello = { 0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4, 0x03, 0x03 };

        readonly ServerCertificateFixture _fixture;

        public TlsUpgradeTests(ServerCertificateFixture fixture)
        {
            _fixture = fixture;
        }

        TlsOptions Options(TimeSpan? timeout = null) => new TlsOptions
        {
            Certificate = _fixture.Certificate,
            HandshakeTimeout = timeout ?? TimeSpan.FromSeconds(20),
        };

        /// <summary>A client SslStream that accepts exactly the test certificate, by thumbprint (it is
        /// self-signed, so the chain check would refuse it).</summary>
        static SslStream PinnedClient(Socket socket, string thumbprint, Action<string> seen = null) =>
            new SslStream(new NetworkStream(socket, ownsSocket: false), false, (sender, certificate, chain, errors) =>
            {
                var hash = certificate?.GetCertHashString();
                seen?.Invoke(hash);
                return string.Equals(hash, thumbprint, StringComparison.OrdinalIgnoreCase);
            });

        static async Task<string> ReadLineAsync(Stream stream)
        {
            var line = new StringBuilder();
            var buffer = new byte[1];
            while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
            {
                using var deadline = new CancellationTokenSource(Patience);
                if (await stream.ReadAsync(buffer, 0, 1, deadline.Token) == 0)
                    throw new EndOfStreamException("connection closed after '" + line + "'");
                line.Append((char)buffer[0]);
            }
            return line.ToString();
        }

        /// <summary>The server's end closed the connection: the client reads end of stream or a reset.</summary>
        static async Task AssertClosedByServerAsync(Socket client)
        {
            using var deadline = new CancellationTokenSource(Patience);
            var buffer = new byte[256];
            try
            {
                int read;
                while ((read = await client.ReceiveAsync(buffer, SocketFlags.None, deadline.Token)) > 0) { }
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset) { }
        }

        async Task<(TlsHandshakeException Failure, TimeSpan Elapsed)> FailedHandshakeAsync(LoopbackPair pair, TlsOptions options,
            Func<Socket, Task> client)
        {
            var clock = Stopwatch.StartNew();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), options);
            await client(pair.Client);
            var failure = await Assert.ThrowsAsync<TlsHandshakeException>(() => server.WaitAsync(Patience));
            var elapsed = clock.Elapsed;
            await AssertClosedByServerAsync(pair.Client);
            Assert.DoesNotContain("   at ", failure.Message);
            return (failure, elapsed);
        }

        [Fact]
        public async Task Handshake_over_loopback_gives_an_encrypted_stream_that_carries_both_ways()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), Options());
            string seen = null;
            using var client = PinnedClient(pair.Client, _fixture.Files.Thumbprint, hash => seen = hash);
            await client.AuthenticateAsClientAsync("localhost").WaitAsync(Patience);
            using var tls = await server.WaitAsync(Patience);

            Assert.Equal(_fixture.Files.Thumbprint, seen);
            Assert.True(tls.IsAuthenticated && tls.IsEncrypted && tls.IsServer);
            Assert.False(tls.IsMutuallyAuthenticated);
            Assert.True(tls.SslProtocol == SslProtocols.Tls12 || tls.SslProtocol == SslProtocols.Tls13, "negotiated " + tls.SslProtocol);

            await client.WriteAsync(Encoding.ASCII.GetBytes("EHLO client.test\r\n"));
            Assert.Equal("EHLO client.test\r\n", await ReadLineAsync(tls));
            await tls.WriteAsync(Encoding.ASCII.GetBytes("250 localhost\r\n"));
            Assert.Equal("250 localhost\r\n", await ReadLineAsync(client));

            tls.Dispose();    // leaveInnerStreamOpen false: the connection goes with it
            await AssertClosedByServerAsync(pair.Client);
        }

        [Fact]
        public async Task Pem_loaded_certificate_serves_a_handshake()
        {
            using var certificate = ServerCertificate.FromPem(_fixture.Files.CertPemPath, _fixture.Files.KeyPemPath);
            using var pair = await LoopbackPair.ConnectAsync();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), new TlsOptions { Certificate = certificate });
            using var client = PinnedClient(pair.Client, _fixture.Files.Thumbprint);
            await client.AuthenticateAsClientAsync("localhost").WaitAsync(Patience);
            using var tls = await server.WaitAsync(Patience);
            Assert.True(tls.IsAuthenticated);
        }

        [Fact]
        public async Task Client_limited_to_TLS_1_2_is_served_by_the_default_protocols()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), Options());
            using var client = PinnedClient(pair.Client, _fixture.Files.Thumbprint);
            await client.AuthenticateAsClientAsync("localhost", null, SslProtocols.Tls12, false).WaitAsync(Patience);
            using var tls = await server.WaitAsync(Patience);
            Assert.Equal(SslProtocols.Tls12, tls.SslProtocol);
        }

        [Fact]
        public async Task Plain_text_from_the_client_fails_the_handshake_at_once_as_Protocol()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var (failure, elapsed) = await FailedHandshakeAsync(pair, Options(TimeSpan.FromSeconds(20)),
                async client => await client.SendAsync(Encoding.ASCII.GetBytes("EHLO client.test\r\nMAIL FROM:<a@example.org>\r\n"), SocketFlags.None));
            Assert.Equal(TlsHandshakeFailure.Protocol, failure.Reason);
            Assert.True(elapsed < TimeSpan.FromSeconds(5), "took " + elapsed);
        }

        [Fact]
        public async Task Silent_client_is_cut_off_when_the_handshake_timeout_expires()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var (failure, elapsed) = await FailedHandshakeAsync(pair, Options(TimeSpan.FromMilliseconds(500)), _ => Task.CompletedTask);
            Assert.Equal(TlsHandshakeFailure.Timeout, failure.Reason);
            Assert.Contains("0.5 s", failure.Message);
            Assert.True(elapsed >= TimeSpan.FromMilliseconds(450), "gave up after " + elapsed);
            Assert.True(elapsed < TimeSpan.FromSeconds(5), "took " + elapsed);
        }

        [Fact]
        public async Task Client_that_stops_mid_handshake_is_cut_off_by_the_timeout()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var (failure, _) = await FailedHandshakeAsync(pair, Options(TimeSpan.FromMilliseconds(500)),
                async client => await client.SendAsync(PartialClientHello, SocketFlags.None));
            Assert.Equal(TlsHandshakeFailure.Timeout, failure.Reason);
        }

        [Fact]
        public async Task Client_that_hangs_up_mid_handshake_fails_it_at_once()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var (failure, elapsed) = await FailedHandshakeAsync(pair, Options(TimeSpan.FromSeconds(20)), async client =>
            {
                await client.SendAsync(PartialClientHello, SocketFlags.None);
                client.Shutdown(SocketShutdown.Send);
            });
            Assert.NotEqual(TlsHandshakeFailure.Timeout, failure.Reason);
            Assert.True(elapsed < TimeSpan.FromSeconds(5), "took " + elapsed);
        }

        [Fact]
        public async Task Client_that_resets_the_connection_is_ConnectionLost()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var clock = Stopwatch.StartNew();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), Options(TimeSpan.FromSeconds(20)));
            await pair.Client.SendAsync(PartialClientHello, SocketFlags.None);
            pair.Client.LingerState = new LingerOption(true, 0);    // close with RST, not FIN
            pair.Client.Close();
            var failure = await Assert.ThrowsAsync<TlsHandshakeException>(() => server.WaitAsync(Patience));
            Assert.True(failure.Reason == TlsHandshakeFailure.ConnectionLost, failure.Reason + ": " + failure.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "took " + clock.Elapsed);
        }

        [Fact]
        public async Task Cancellation_closes_the_connection_and_is_not_a_handshake_failure()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            using var stop = new CancellationTokenSource();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), Options(TimeSpan.FromSeconds(20)), stop.Token);
            stop.Cancel();
            var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server.WaitAsync(Patience));
            Assert.Equal(stop.Token, ex.CancellationToken);
            await AssertClosedByServerAsync(pair.Client);
        }

        [Fact]
        public async Task Token_cancelled_before_the_call_closes_the_connection()
        {
            using var pair = await LoopbackPair.ConnectAsync();
            var server = TlsUpgrade.AuthenticateAsServerAsync(pair.ServerStream(), Options(), new CancellationToken(true));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
            await AssertClosedByServerAsync(pair.Client);
        }

        [Fact]
        public async Task Missing_stream_options_or_certificate_are_argument_errors()
        {
            using var stream = new MemoryStream();
            await Assert.ThrowsAsync<ArgumentNullException>(() => TlsUpgrade.AuthenticateAsServerAsync(null, Options()));
            await Assert.ThrowsAsync<ArgumentNullException>(() => TlsUpgrade.AuthenticateAsServerAsync(stream, null));
            await Assert.ThrowsAsync<ArgumentException>(() => TlsUpgrade.AuthenticateAsServerAsync(stream, new TlsOptions()));
            using var publicOnly = X509CertificateLoader.LoadCertificate(_fixture.Certificate.RawData);
            await Assert.ThrowsAsync<ArgumentException>(() => TlsUpgrade.AuthenticateAsServerAsync(stream, new TlsOptions { Certificate = publicOnly }));
        }

        [Fact]
        public void Options_default_to_the_system_protocols_and_30_seconds()
        {
            var options = new TlsOptions();
            Assert.Equal(SslProtocols.None, options.Protocols);
            Assert.Equal(TimeSpan.FromSeconds(30), options.HandshakeTimeout);
            Assert.Null(options.Certificate);
        }

        [Fact]
        public void Options_refuse_SSL_and_timeouts_out_of_range()
        {
            var options = new TlsOptions();
#pragma warning disable CS0618, SYSLIB0039
            Assert.Throws<ArgumentException>(() => options.Protocols = SslProtocols.Ssl3 | SslProtocols.Tls12);
            Assert.Throws<ArgumentException>(() => options.Protocols = SslProtocols.Default);
            options.Protocols = SslProtocols.Tls | SslProtocols.Tls12;
#pragma warning restore CS0618, SYSLIB0039
            Assert.Throws<ArgumentOutOfRangeException>(() => options.HandshakeTimeout = TimeSpan.Zero);
            Assert.Throws<ArgumentOutOfRangeException>(() => options.HandshakeTimeout = TimeSpan.FromHours(1));
            Assert.Equal(TimeSpan.FromSeconds(30), options.HandshakeTimeout);
        }
    }
}
