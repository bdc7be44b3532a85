using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Xunit;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A real server program a fixture owns (knotd, slapd, redis-server): its executable, its
    /// temporary folder, the process with both output streams in <see cref="Log"/>, the wait until it
    /// serves, the retry when another process took its port first, and its end (the whole process
    /// tree killed, the folder removed). The fixture keeps what differs: configuration, ports, the
    /// ready probe and its messages.
    /// </summary>
    public sealed class ServerProcess : IDisposable
    {
        /// <summary>How long a server may take to serve after its start.</summary>
        public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);
        const int StartAttempts = 5;

        // Folders besides PATH where Debian and others install daemons.
        static readonly string[] ProgramFolders = { "/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin", "/usr/local/bin" };

        // The log spans restarts: tests read what the server said before a restart as well.
        readonly StringBuilder _log = new StringBuilder();
        Process _process;
        TaskCompletionSource<bool> _ready;
        string _readyLine;

        /// <summary>The server's temporary folder (<see cref="NewDirectory"/>); removed by Dispose.</summary>
        public string Directory { get; private set; }

        /// <summary>What the server has written so far, both streams, across restarts.</summary>
        public string Log
        {
            get { lock (_log) return _log.ToString(); }
        }

        public bool IsRunning => _process != null && !_process.HasExited;

        public int Id => _process.Id;

        /// <summary>Names a fresh folder under the temporary path (not created: some servers make it themselves).</summary>
        public string NewDirectory(string prefix) =>
            Directory = Path.Combine(Path.GetTempPath(), prefix + Guid.NewGuid().ToString("N"));

        /// <summary>Starts the program with its output in <see cref="Log"/>. With <paramref name="readyLine"/>,
        /// <see cref="WaitForReadyLineAsync"/> waits for the line that says the server listens.</summary>
        public void Start(string fileName, IEnumerable<string> arguments, string workingDirectory = null, string readyLine = null)
        {
            var psi = new ProcessStartInfo(fileName)
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
            };
            if (workingDirectory != null)
                psi.WorkingDirectory = workingDirectory;
            foreach (var argument in arguments)
                psi.ArgumentList.Add(argument);

            // Each start has its own signal, so a line of a killed process cannot make a new one ready.
            var ready = _ready = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _readyLine = readyLine;
            var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => Append(e.Data, ready, readyLine);
            process.ErrorDataReceived += (_, e) => Append(e.Data, ready, readyLine);
            process.Exited += (_, _) => ready.TrySetResult(false);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
        }

        void Append(string line, TaskCompletionSource<bool> ready, string readyLine)
        {
            if (line == null)
                return;
            lock (_log) _log.AppendLine(line);
            if (readyLine != null && line.Contains(readyLine, StringComparison.Ordinal))
                ready.TrySetResult(true);
        }

        /// <summary>True once the server has written its ready line; false if it exits first or the deadline passes.</summary>
        public async Task<bool> WaitForReadyLineAsync()
        {
            if (_readyLine == null)
                throw new InvalidOperationException("The server was started without a ready line.");
            var ready = _ready.Task;
            return await Task.WhenAny(ready, Task.Delay(StartDeadline)) == ready && ready.Result;
        }

        /// <summary>Asks <paramref name="serving"/> until it says yes (true), the server exits or the
        /// deadline passes (false).</summary>
        public async Task<bool> WaitUntilServingAsync(Func<Task<bool>> serving)
        {
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < StartDeadline)
            {
                if (_process.HasExited)
                    return false;
                if (await serving())
                    return true;
                await Task.Delay(25);   // polling interval, not a wait for an assumed start time
            }
            return false;
        }

        /// <summary>
        /// Runs <paramref name="startOnce"/> (pick ports, write the configuration, <see cref="Start"/>, wait)
        /// until it reports the server serving. When the server did not serve and its output says
        /// "address already in use", another process took a port between our check and its bind: the
        /// attempt's process is killed and another attempt made, up to five. Any other failure throws
        /// <paramref name="failed"/>(the server's output). With <paramref name="fresh"/> (a first start)
        /// a failed attempt's folder goes too and its output is forgotten; a restart keeps both.
        /// </summary>
        public async Task StartWithRetriesAsync(Func<Task<bool>> startOnce, Func<string, Exception> failed, bool fresh = true)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (await startOnce())
                        return;
                }
                catch
                {
                    Kill();
                    if (fresh) RemoveDirectory();
                    throw;
                }

                var log = Log;
                Kill();
                if (fresh) RemoveDirectory();
                if (attempt < StartAttempts && log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    if (fresh) lock (_log) _log.Clear();
                    continue;
                }
                throw failed(log);
            }
        }

        /// <summary>Kills the process tree now and waits for it; the folder stays.</summary>
        public void Kill()
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
            var directory = Directory;
            Directory = null;
            if (directory == null)
                return;
            try { System.IO.Directory.Delete(directory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>Kills the server and removes its folder.</summary>
        public void Dispose()
        {
            Kill();
            RemoveDirectory();
        }

        /// <summary>Initializes a fixture made outside xunit's machinery (a test's own server); when that
        /// fails, disposes it, so no process or folder is left behind.</summary>
        public static async Task<T> StartOwnAsync<T>(T fixture) where T : IAsyncLifetime, IDisposable
        {
            try
            {
                await fixture.InitializeAsync();
                return fixture;
            }
            catch
            {
                fixture.Dispose();
                throw;
            }
        }

        /// <summary>
        /// The program named by <paramref name="variable"/> when set (it must exist), else the first
        /// <paramref name="name"/> on PATH or in the bin and sbin folders. Missing is a failure, not a
        /// skip: a test that silently does not run proves nothing.
        /// </summary>
        /// <param name="need">Who needs it, for the message: "The DNS tests need a real DNS server".</param>
        /// <param name="debianPackages">What installs it on Debian.</param>
        public static string FindExecutable(string name, string variable, string need, string debianPackages)
        {
            var configured = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(configured))
            {
                if (File.Exists(configured))
                    return configured;
                throw new InvalidOperationException($"{variable} is set to '{configured}', which does not exist.");
            }

            var folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Concat(ProgramFolders);
            foreach (var folder in folders)
            {
                var candidate = Path.Combine(folder, name);
                if (File.Exists(candidate))
                    return candidate;
            }

            throw new InvalidOperationException(
                $"{name} was not found on PATH or in {string.Join(", ", ProgramFolders)}. {need}: run tests/tools/install-test-deps.sh "
                + $"(on Debian: apt-get install {debianPackages}), or set {variable} to the {name} executable.");
        }
    }
}
