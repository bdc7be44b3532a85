using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Threading.Tasks;
using Xunit;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// Tests that share one Redis join this collection and take <see cref="TestRedisServer"/> in their
    /// constructor; each keeps to a key prefix of its own. Tests that stop or reconfigure a server
    /// start their own with <see cref="TestRedisServer.StartAsync"/>.
    /// </summary>
    [CollectionDefinition("redis")]
    public sealed class RedisCollection : ICollectionFixture<TestRedisServer>
    {
    }

    /// <summary>
    /// A real redis-server (Debian's package) on 127.0.0.1 at a free port, run from a fresh temporary
    /// folder with no persistence (no RDB, no AOF), asking a password (requirepass) unless told
    /// otherwise, and optionally speaking only TLS. tests/tools/Start-TestRedis.ps1 starts the same
    /// for Pester tests.
    /// </summary>
    /// <remarks>
    /// redis-server missing is a failure, not a skip (tests/tools/install-test-deps.sh installs it).
    /// Set SMTPD_TEST_REDIS_SERVER to use one that is not on PATH or in the bin and sbin folders.
    /// </remarks>
    public sealed class TestRedisServer : IAsyncLifetime, IDisposable
    {
        readonly ServerProcess _server = new ServerProcess();
        readonly bool _withPassword;
        readonly string _certificatePath, _keyPath;
        string _redisServer;

        /// <summary>The fixture's server: a password, plain TCP.</summary>
        public TestRedisServer() : this(withPassword: true, certificatePath: null, keyPath: null) { }

        TestRedisServer(bool withPassword, string certificatePath, string keyPath)
        {
            _withPassword = withPassword;
            _certificatePath = certificatePath;
            _keyPath = keyPath;
        }

        public int Port { get; private set; }

        /// <summary>127.0.0.1:port.</summary>
        public IPEndPoint EndPoint => new IPEndPoint(IPAddress.Loopback, Port);

        /// <summary>redis://127.0.0.1:port, or rediss:// for a TLS server.</summary>
        public string Uri => (_certificatePath == null ? "redis://" : "rediss://") + "127.0.0.1:" + Port;

        /// <summary>The requirepass password (AUTH with it alone, or as user "default"); null when none.</summary>
        public string Password { get; private set; }

        public bool IsRunning => _server.IsRunning;

        /// <summary>What redis-server has written so far; tests print it when something surprises them.</summary>
        public string Log => _server.Log;

        /// <summary>Starts a server of one's own; dispose it to stop redis-server and remove its folder.</summary>
        /// <param name="withPassword">Ask a password (requirepass).</param>
        /// <param name="certificatePath">A PEM certificate: serve TLS only (tls-port), no client certificates asked.</param>
        /// <param name="keyPath">Its PEM private key.</param>
        public static Task<TestRedisServer> StartAsync(bool withPassword = true, string certificatePath = null, string keyPath = null) =>
            ServerProcess.StartOwnAsync(new TestRedisServer(withPassword, certificatePath, keyPath));

        public Task InitializeAsync()
        {
            _redisServer = ServerProcess.FindExecutable("redis-server", "SMTPD_TEST_REDIS_SERVER",
                "The shared state tests need a real Redis", "redis-server");
            Password = _withPassword ? "pw-" + Guid.NewGuid().ToString("N") : null;
            return _server.StartWithRetriesAsync(
                () =>
                {
                    Directory.CreateDirectory(_server.NewDirectory("smtpd-test-redis-"));
                    Port = DownstreamTools.FreePort();
                    return StartProcessAsync();
                },
                log => new InvalidOperationException(
                    $"redis-server did not get ready on 127.0.0.1:{Port} within {ServerProcess.StartDeadline.TotalSeconds} s.\nredis-server output:\n{log}"));
        }

        /// <summary>Kills redis-server (SIGKILL: as a crash, nothing written); the folder stays for <see cref="RestartAsync"/>.</summary>
        public void Kill() => _server.Kill();

        /// <summary>Stops redis-server in its tracks (SIGSTOP): connections stay open and nothing answers,
        /// as a server swapping or stalled. <see cref="Resume"/> lets it go on.</summary>
        public void Pause() => Signal("-STOP");

        public void Resume() => Signal("-CONT");

        void Signal(string signal)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, _server.Id.ToString() }, UseShellExecute = false });
            kill.WaitForExit();
            if (kill.ExitCode != 0)
                throw new InvalidOperationException("kill " + signal + " " + _server.Id + " failed with exit code " + kill.ExitCode);
        }

        /// <summary>Starts redis-server again on the same port, empty (no persistence).</summary>
        public Task RestartAsync()
        {
            _server.Kill();
            // The port can be held briefly by the killed process's sockets: the retries cover that.
            return _server.StartWithRetriesAsync(
                StartProcessAsync,
                log => new InvalidOperationException($"redis-server did not restart on 127.0.0.1:{Port}.\nredis-server output:\n{log}"),
                fresh: false);
        }

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose() => _server.Dispose();

        Task<bool> StartProcessAsync()
        {
            var conf = Path.Combine(_server.Directory, "redis.conf");
            File.WriteAllText(conf, Configuration());
            // Redis logs this line once its listeners are bound: an event, not a guess.
            _server.Start(_redisServer, new[] { conf }, workingDirectory: _server.Directory, readyLine: "Ready to accept connections");
            return _server.WaitForReadyLineAsync();
        }

        string Configuration()
        {
            var lines = new List<string>
            {
                "bind 127.0.0.1",
                "daemonize no",
                "dir " + Quote(_server.Directory),
                "logfile \"\"",
                "save \"\"",
                "appendonly no",
                "databases 16",
            };
            if (_certificatePath == null)
                lines.Add("port " + Port);
            else
            {
                lines.Add("port 0");
                lines.Add("tls-port " + Port);
                lines.Add("tls-cert-file " + Quote(_certificatePath));
                lines.Add("tls-key-file " + Quote(_keyPath));
                lines.Add("tls-auth-clients no");
            }
            if (Password != null)
                lines.Add("requirepass " + Password);
            return string.Join("\n", lines) + "\n";
        }

        static string Quote(string path) => "\"" + path.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
    }
}
