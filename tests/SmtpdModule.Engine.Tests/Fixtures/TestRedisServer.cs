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
    /// Set SMTPD_TEST_REDIS_SERVER to use one that is not on PATH or in the sbin folders.
    /// </remarks>
    public sealed class TestRedisServer : IAsyncLifetime, IDisposable
    {
        static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);
        const int StartAttempts = 5;

        readonly StringBuilder _log = new StringBuilder();
        readonly bool _withPassword;
        readonly string _certificatePath, _keyPath;
        Process _process;
        string _directory;
        TaskCompletionSource<bool> _ready;

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

        public bool IsRunning => _process != null && !_process.HasExited;

        /// <summary>What redis-server has written so far; tests print it when something surprises them.</summary>
        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        /// <summary>Starts a server of one's own; dispose it to stop redis-server and remove its folder.</summary>
        /// <param name="withPassword">Ask a password (requirepass).</param>
        /// <param name="certificatePath">A PEM certificate: serve TLS only (tls-port), no client certificates asked.</param>
        /// <param name="keyPath">Its PEM private key.</param>
        public static async Task<TestRedisServer> StartAsync(bool withPassword = true, string certificatePath = null, string keyPath = null)
        {
            var server = new TestRedisServer(withPassword, certificatePath, keyPath);
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

        public async Task InitializeAsync()
        {
            var redis = FindRedisServer();
            Password = _withPassword ? "pw-" + Guid.NewGuid().ToString("N") : null;
            for (var attempt = 1; ; attempt++)
            {
                _directory = Path.Combine(Path.GetTempPath(), "smtpd-test-redis-" + Guid.NewGuid().ToString("N"));
                Directory.CreateDirectory(_directory);
                Port = FreeTcpPort();
                if (await StartProcessAsync(redis))
                    return;
                var log = Log;
                KillProcess();
                RemoveDirectory();
                if (attempt < StartAttempts && log.Contains("Address already in use"))
                {
                    lock (_log) _log.Clear();
                    continue;   // the port was taken between our check and redis-server's bind
                }
                throw new InvalidOperationException($"redis-server did not get ready on 127.0.0.1:{Port} within {StartDeadline.TotalSeconds} s.\nredis-server output:\n{log}");
            }
        }

        /// <summary>Kills redis-server (SIGKILL: as a crash, nothing written); the folder stays for <see cref="RestartAsync"/>.</summary>
        public void Kill() => KillProcess();

        /// <summary>Stops redis-server in its tracks (SIGSTOP): connections stay open and nothing answers,
        /// as a server swapping or stalled. <see cref="Resume"/> lets it go on.</summary>
        public void Pause() => Signal("-STOP");

        public void Resume() => Signal("-CONT");

        void Signal(string signal)
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, _process.Id.ToString() }, UseShellExecute = false });
            kill.WaitForExit();
            if (kill.ExitCode != 0)
                throw new InvalidOperationException("kill " + signal + " " + _process.Id + " failed with exit code " + kill.ExitCode);
        }

        /// <summary>Starts redis-server again on the same port, empty (no persistence).</summary>
        public async Task RestartAsync()
        {
            KillProcess();
            for (var attempt = 1; ; attempt++)
            {
                if (await StartProcessAsync(FindRedisServer()))
                    return;
                var log = Log;
                KillProcess();
                // The port can be held briefly by the killed process's sockets; try again.
                if (attempt < StartAttempts && log.Contains("Address already in use"))
                    continue;
                throw new InvalidOperationException($"redis-server did not restart on 127.0.0.1:{Port}.\nredis-server output:\n{log}");
            }
        }

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose()
        {
            KillProcess();
            RemoveDirectory();
        }

        async Task<bool> StartProcessAsync(string redis)
        {
            var conf = Path.Combine(_directory, "redis.conf");
            File.WriteAllText(conf, Configuration());
            _ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var psi = new ProcessStartInfo(redis)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
                WorkingDirectory = _directory,
            };
            psi.ArgumentList.Add(conf);
            var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
            var ready = _ready;
            process.OutputDataReceived += (_, e) => Append(e.Data, ready);
            process.ErrorDataReceived += (_, e) => Append(e.Data, ready);
            process.Exited += (_, e) => ready.TrySetResult(false);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            // Redis logs this line once its listeners are bound: an event, not a guess.
            var first = await Task.WhenAny(ready.Task, Task.Delay(StartDeadline));
            return first == ready.Task && ready.Task.Result;
        }

        string Configuration()
        {
            var lines = new List<string>
            {
                "bind 127.0.0.1",
                "daemonize no",
                "dir " + Quote(_directory),
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

        void Append(string line, TaskCompletionSource<bool> ready)
        {
            if (line == null)
                return;
            lock (_log) _log.AppendLine(line);
            if (line.Contains("Ready to accept connections"))
                ready.TrySetResult(true);
        }

        void KillProcess()
        {
            var process = _process;
            _process = null;
            if (process == null)
                return;
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

        void RemoveDirectory()
        {
            var directory = _directory;
            _directory = null;
            if (directory == null)
                return;
            try { Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        static int FreeTcpPort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try { return ((IPEndPoint)listener.LocalEndpoint).Port; }
            finally { listener.Stop(); }
        }

        static string FindRedisServer()
        {
            var configured = Environment.GetEnvironmentVariable("SMTPD_TEST_REDIS_SERVER");
            if (!string.IsNullOrEmpty(configured))
            {
                if (File.Exists(configured))
                    return configured;
                throw new InvalidOperationException($"SMTPD_TEST_REDIS_SERVER is set to '{configured}', which does not exist.");
            }
            var folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin" });
            foreach (var folder in folders)
            {
                var candidate = Path.Combine(folder, "redis-server");
                if (File.Exists(candidate))
                    return candidate;
            }
            throw new InvalidOperationException(
                "redis-server was not found on PATH or in the bin and sbin folders. The shared state tests need a real "
                + "Redis: run tests/tools/install-test-deps.sh (on Debian: apt-get install redis-server), "
                + "or set SMTPD_TEST_REDIS_SERVER to the redis-server executable.");
        }
    }
}
