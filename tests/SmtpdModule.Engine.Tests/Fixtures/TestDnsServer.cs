using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using DnsClient;
using SmtpdModule.Engine.Lookup;
using Xunit;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// Tests that need the real DNS server join this collection and take <see cref="TestDnsServer"/>
    /// in their constructor: <c>[Collection("dns")] public class X { public X(TestDnsServer dns) … }</c>.
    /// One knotd serves the whole collection.
    /// </summary>
    [CollectionDefinition("dns")]
    public sealed class DnsCollection : ICollectionFixture<TestDnsServer>
    {
    }

    /// <summary>
    /// A real authoritative DNS server, Knot DNS's knotd, serving the zones in tests/fixtures/dns
    /// (their facts are listed in that folder's README.md) on 127.0.0.1, and on ::1 when the
    /// machine has it, at a free port. It answers REFUSED for names outside those zones.
    /// </summary>
    /// <remarks>
    /// knotd missing is a failure, not a skip: a DNS test that silently does not run proves nothing.
    /// Set SMTPD_TEST_KNOTD to use a knotd that is not on PATH or in the bin and sbin folders.
    /// </remarks>
    public sealed class TestDnsServer : IAsyncLifetime, IDisposable
    {
        readonly ServerProcess _server = new ServerProcess();

        /// <summary>The IPv4 address and port knotd answers on.</summary>
        public IPEndPoint EndPoint { get; private set; }

        /// <summary>The same server on ::1, or null when this machine has no IPv6 loopback.</summary>
        public IPEndPoint EndPointV6 { get; private set; }

        public int Port => EndPoint.Port;

        /// <summary>The zones served, without trailing dots (from the zone file names).</summary>
        public IReadOnlyList<string> Zones { get; private set; }

        /// <summary>What knotd has written so far; tests print it when an answer surprises them.</summary>
        public string Log => _server.Log;

        /// <summary>Starts a server outside xunit's fixture machinery; dispose it to stop knotd.</summary>
        public static Task<TestDnsServer> StartAsync() =>
            ServerProcess.StartOwnAsync(new TestDnsServer());

        /// <summary>A resolver that asks only this server: short timeout, no retries.</summary>
        public DnsClientResolver CreateResolver(TimeSpan? timeout = null, int retries = 0) =>
            new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { EndPoint },
                Timeout = timeout ?? TimeSpan.FromSeconds(2),
                Retries = retries,
            });

        public Task InitializeAsync()
        {
            var knotd = ServerProcess.FindExecutable("knotd", "SMTPD_TEST_KNOTD",
                "The DNS tests need a real DNS server", "knot knot-dnsutils");
            var fixtures = FindFixtureDirectory();
            var zoneFiles = Directory.GetFiles(fixtures, "*.zone").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            Zones = zoneFiles.Select(f => Path.GetFileName(f).Substring(0, Path.GetFileName(f).Length - ".zone".Length)).ToArray();
            var template = File.ReadAllText(Path.Combine(fixtures, "knot.conf.in"));
            var ipv6 = HasIPv6Loopback();
            string conf = null;

            return _server.StartWithRetriesAsync(
                () =>
                {
                    var directory = _server.NewDirectory("smtpd-test-dns-");
                    Directory.CreateDirectory(Path.Combine(directory, "zones"));
                    Directory.CreateDirectory(Path.Combine(directory, "db"));
                    foreach (var file in zoneFiles)
                        File.Copy(file, Path.Combine(directory, "zones", Path.GetFileName(file)));

                    var port = FindFreePort(ipv6);
                    var listen = ipv6 ? $"[ 127.0.0.1@{port}, ::1@{port} ]" : $"[ 127.0.0.1@{port} ]";
                    conf = Path.Combine(directory, "knot.conf");
                    File.WriteAllText(conf, template.Replace("{{DIR}}", directory).Replace("{{LISTEN}}", listen));

                    EndPoint = new IPEndPoint(IPAddress.Loopback, port);
                    EndPointV6 = ipv6 ? new IPEndPoint(IPAddress.IPv6Loopback, port) : null;
                    // Foreground (no -d). The configuration puts the pid file and control socket in the
                    // temporary directory, so nothing touches /run/knot or a system knotd.
                    _server.Start(knotd, new[] { "-c", conf });
                    return _server.WaitUntilServingAsync(AllZonesAnswer());
                },
                log => new InvalidOperationException(
                    $"knotd did not serve all test zones ({string.Join(", ", Zones)}) on {EndPoint} within {ServerProcess.StartDeadline.TotalSeconds} s.\n"
                    + $"Command: {knotd} -c {conf}\nknotd output:\n{log}"));
        }

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose() => _server.Dispose();

        // Zones load after knotd starts listening (and answer REFUSED until then), so ask each
        // zone's SOA until every one has answered.
        Func<Task<bool>> AllZonesAnswer()
        {
            var client = new LookupClient(new LookupClientOptions(EndPoint)
            {
                UseCache = false,
                Timeout = TimeSpan.FromMilliseconds(250),
                Retries = 0,
                ThrowDnsErrors = false,
                ContinueOnDnsError = false,
                ContinueOnEmptyResponse = false,
            });
            var pending = new HashSet<string>(Zones, StringComparer.OrdinalIgnoreCase);
            return async () =>
            {
                foreach (var zone in pending.ToArray())
                {
                    try
                    {
                        var response = await client.QueryAsync(zone + ".", QueryType.SOA);
                        if (!response.HasError && response.Answers.Count > 0)
                            pending.Remove(zone);
                    }
                    catch (DnsResponseException)
                    {
                        // Not listening yet: ask again.
                    }
                }
                return pending.Count == 0;
            };
        }

        static string FindFixtureDirectory()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "dns");
                if (File.Exists(Path.Combine(candidate, "knot.conf.in")))
                    return candidate;
            }
            throw new InvalidOperationException(
                $"tests/fixtures/dns/knot.conf.in was not found above {AppContext.BaseDirectory}; run the tests from the repository.");
        }

        static bool HasIPv6Loopback()
        {
            if (!Socket.OSSupportsIPv6)
                return false;
            try
            {
                using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
                probe.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }

        /// <summary>A port free for UDP and TCP on 127.0.0.1 (and ::1 when <paramref name="ipv6"/>), as
        /// the kernel picks it for port 0. Released before knotd binds it: the caller retries if it is
        /// taken in between.</summary>
        internal static int FindFreePort(bool ipv6)
        {
            for (var i = 0; i < 50; i++)
            {
                var held = new List<Socket>();
                try
                {
                    var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                    held.Add(udp);
                    udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    var port = ((IPEndPoint)udp.LocalEndPoint).Port;

                    var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    held.Add(tcp);
                    tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));

                    if (ipv6)
                    {
                        var udp6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
                        held.Add(udp6);
                        udp6.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
                        var tcp6 = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
                        held.Add(tcp6);
                        tcp6.Bind(new IPEndPoint(IPAddress.IPv6Loopback, port));
                    }

                    return port;
                }
                catch (SocketException)
                {
                    // That port is taken on one of the sockets: ask for another.
                }
                finally
                {
                    foreach (var socket in held)
                        socket.Dispose();
                }
            }
            throw new InvalidOperationException("No port was free for both UDP and TCP on the loopback addresses.");
        }
    }
}
