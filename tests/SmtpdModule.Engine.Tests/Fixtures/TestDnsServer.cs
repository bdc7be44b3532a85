using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
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
    /// Set SMTPD_TEST_KNOTD to use a knotd that is not on PATH or in the sbin folders.
    /// </remarks>
    public sealed class TestDnsServer : IAsyncLifetime, IDisposable
    {
        static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);
        const int StartAttempts = 5;

        readonly StringBuilder _log = new StringBuilder();
        Process _process;
        string _directory;

        /// <summary>The IPv4 address and port knotd answers on.</summary>
        public IPEndPoint EndPoint { get; private set; }

        /// <summary>The same server on ::1, or null when this machine has no IPv6 loopback.</summary>
        public IPEndPoint EndPointV6 { get; private set; }

        public int Port => EndPoint.Port;

        /// <summary>The zones served, without trailing dots (from the zone file names).</summary>
        public IReadOnlyList<string> Zones { get; private set; }

        /// <summary>What knotd has written so far; tests print it when an answer surprises them.</summary>
        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        /// <summary>Starts a server outside xunit's fixture machinery; dispose it to stop knotd.</summary>
        public static async Task<TestDnsServer> StartAsync()
        {
            var server = new TestDnsServer();
            try
            {
                await server.InitializeAsync();
                return server;
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }

        /// <summary>A resolver that asks only this server: short timeout, no retries.</summary>
        public DnsClientResolver CreateResolver(TimeSpan? timeout = null, int retries = 0) =>
            new DnsClientResolver(new DnsResolverOptions
            {
                Servers = new[] { EndPoint },
                Timeout = timeout ?? TimeSpan.FromSeconds(2),
                Retries = retries,
            });

        public async Task InitializeAsync()
        {
            var knotd = FindKnotd();
            var fixtures = FindFixtureDirectory();
            var zoneFiles = Directory.GetFiles(fixtures, "*.zone").OrderBy(f => f, StringComparer.Ordinal).ToArray();
            Zones = zoneFiles.Select(f => Path.GetFileName(f).Substring(0, Path.GetFileName(f).Length - ".zone".Length)).ToArray();
            var template = File.ReadAllText(Path.Combine(fixtures, "knot.conf.in"));
            var ipv6 = HasIPv6Loopback();

            for (var attempt = 1; ; attempt++)
            {
                _directory = Path.Combine(Path.GetTempPath(), "smtpd-test-dns-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(Path.Combine(_directory, "zones"));
                Directory.CreateDirectory(Path.Combine(_directory, "db"));
                foreach (var file in zoneFiles)
                    File.Copy(file, Path.Combine(_directory, "zones", Path.GetFileName(file)));

                var port = FindFreePort(ipv6);
                var listen = ipv6 ? $"[ 127.0.0.1@{port}, ::1@{port} ]" : $"[ 127.0.0.1@{port} ]";
                var conf = Path.Combine(_directory, "knot.conf");
                File.WriteAllText(conf, template.Replace("{{DIR}}", _directory).Replace("{{LISTEN}}", listen));

                EndPoint = new IPEndPoint(IPAddress.Loopback, port);
                EndPointV6 = ipv6 ? new IPEndPoint(IPAddress.IPv6Loopback, port) : null;
                try
                {
                    Start(knotd, conf);
                    if (await WaitUntilServingAsync())
                        return;
                }
                catch
                {
                    Stop();
                    throw;
                }

                // Another process may have taken the port between our check and knotd's bind: try another.
                var log = Log;
                Stop();
                if (attempt < StartAttempts && log.Contains("address already in use"))
                {
                    lock (_log) _log.Clear();
                    continue;
                }

                throw new InvalidOperationException(
                    $"knotd did not serve all test zones ({string.Join(", ", Zones)}) on {EndPoint} within {StartDeadline.TotalSeconds} s.\n"
                    + $"Command: {knotd} -c {conf}\nknotd output:\n{log}");
            }
        }

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose() => Stop();

        void Start(string knotd, string conf)
        {
            var psi = new ProcessStartInfo(knotd)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = false,
                CreateNoWindow = true,
            };
            // Foreground (no -d). The configuration puts the pid file and control socket in the
            // temporary directory, so nothing touches /run/knot or a system knotd.
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(conf);

            var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
        }

        void Append(string line)
        {
            if (line == null)
                return;
            lock (_log) _log.AppendLine(line);
        }

        // Zones load after knotd starts listening (and answer REFUSED until then), so ask each
        // zone's SOA until every one answers, knotd exits, or the deadline passes.
        async Task<bool> WaitUntilServingAsync()
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
            var deadline = Stopwatch.StartNew();

            while (deadline.Elapsed < StartDeadline)
            {
                if (_process.HasExited)
                    return false;

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
                        // Not listening yet: poll again.
                    }
                }

                if (pending.Count == 0)
                    return true;
                await Task.Delay(25);   // polling interval, not a wait for an assumed duration
            }

            return false;
        }

        void Stop()
        {
            var process = _process;
            _process = null;
            if (process != null)
            {
                try
                {
                    if (!process.HasExited)
                        process.Kill(entireProcessTree: true);
                    process.WaitForExit(5000);
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
                process.Dispose();
            }

            var directory = _directory;
            _directory = null;
            if (directory != null)
            {
                try { Directory.Delete(directory, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        static string FindKnotd()
        {
            var configured = Environment.GetEnvironmentVariable("SMTPD_TEST_KNOTD");
            if (!string.IsNullOrEmpty(configured))
            {
                if (File.Exists(configured))
                    return configured;
                throw new InvalidOperationException($"SMTPD_TEST_KNOTD is set to '{configured}', which does not exist.");
            }

            var folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(new[] { "/usr/sbin", "/usr/local/sbin", "/sbin" });
            foreach (var folder in folders)
            {
                var candidate = Path.Combine(folder, "knotd");
                if (File.Exists(candidate))
                    return candidate;
            }

            throw new InvalidOperationException(
                "knotd (Knot DNS) was not found on PATH or in /usr/sbin, /usr/local/sbin, /sbin. The DNS tests need a real "
                + "DNS server: run tests/tools/install-test-deps.sh (on Debian: apt-get install knot knot-dnsutils), "
                + "or set SMTPD_TEST_KNOTD to the knotd executable.");
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
