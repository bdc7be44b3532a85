using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipes;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Control
{
    /// <summary>
    /// The control channel of one running proxy or forwarder: a local endpoint (a named pipe on
    /// Windows, a Unix domain socket elsewhere, both through <see cref="NamedPipeServerStream"/>)
    /// that answers one request per connection, so that Get-/Stop-SmtpdProxy and
    /// Get-/Stop-SmtpFwd in another process can see and stop it gracefully.
    /// </summary>
    /// <remarks>
    /// Who may connect: on Unix the socket is 0600 inside <c>control/</c>, 0700, inside the spool,
    /// 0700: the service account and root. On Windows netstandard2.0 cannot set a pipe's ACL, so
    /// the pipe keeps the default one: full control for LocalSystem, Administrators and the
    /// creator (the service account), read only for Everyone, and a client must open the pipe
    /// read-write to send a request. A request is one short line; anything else is refused.
    /// </remarks>
    public sealed class ControlEndpoint : IDisposable
    {
        /// <summary>The longest request line, its newline included.</summary>
        internal const int MaxRequest = 256;
        static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(10);

        readonly ControlLocation _location;
        readonly string _pipeName;
        readonly Func<string, Task<string>> _handle;
        readonly CancellationTokenSource _closing = new CancellationTokenSource();
        readonly object _lock = new object();
        readonly List<Task> _handlers = new List<Task>();
        Task _acceptLoop;

        ControlEndpoint(ControlLocation location, string pipeName, Func<string, Task<string>> handle)
        {
            _location = location;
            _pipeName = pipeName;
            _handle = handle;
        }

        /// <summary>Where the endpoint is (its socket or marker file).</summary>
        public string Path => _location.File;

        /// <summary>
        /// Opens the endpoint of instance <paramref name="id"/> of <paramref name="kind"/> in the
        /// spool's control folder. <paramref name="handle"/> gets the request line and returns the
        /// whole answer (see <see cref="ControlFields"/>).
        /// </summary>
        /// <exception cref="IOException">The endpoint cannot be created (e.g. a Unix socket path
        /// longer than the system allows, about 100 bytes).</exception>
        /// <exception cref="UnauthorizedAccessException">The control folder cannot be written.</exception>
        public static ControlEndpoint Open(string spoolRoot, string kind, int id, Func<string, Task<string>> handle)
        {
            if (handle == null) throw new ArgumentNullException(nameof(handle));
            var location = ControlLocation.ForThisProcess(spoolRoot, kind, id);
            var dir = ControlLocation.DirectoryOf(spoolRoot);
            Directory.CreateDirectory(dir);
            UnixPermissions.Restrict(dir, UnixPermissions.PrivateDirectory);
            // A leftover of a dead process that had the same id: a socket path cannot be bound twice.
            location.Remove();
            bool marker = location.File.EndsWith(ControlLocation.MarkerExtension, StringComparison.Ordinal);
            string pipeName = HostOsInfo.IsWindows
                ? "smtpd-" + kind + "-" + location.ProcessId + "-" + id + "-" + Guid.NewGuid().ToString("N")
                : marker ? ControlLocation.NewTemporarySocketPath() : location.File;
            var endpoint = new ControlEndpoint(location, pipeName, handle);
            var first = endpoint.NewServer();   // fails here, not later in the loop, if the path is unusable
            try
            {
                if (!HostOsInfo.IsWindows) UnixPermissions.Restrict(pipeName, 0x180);   // 0600
                if (marker) File.WriteAllText(location.File, pipeName);
            }
            catch
            {
                first.Dispose();
                location.Remove();
                throw;
            }
            endpoint._acceptLoop = Task.Run(() => endpoint.AcceptLoopAsync(first));
            // A process that ends with the instance still running (no stop) leaves no endpoint.
            AppDomain.CurrentDomain.ProcessExit += endpoint.OnProcessExit;
            return endpoint;
        }

        NamedPipeServerStream NewServer() =>
            new NamedPipeServerStream(_pipeName, PipeDirection.InOut, NamedPipeServerStream.MaxAllowedServerInstances,
                                      PipeTransmissionMode.Byte, PipeOptions.Asynchronous);

        async Task AcceptLoopAsync(NamedPipeServerStream server)
        {
            while (!_closing.IsCancellationRequested)
            {
                try
                {
                    await server.WaitForConnectionAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is OperationCanceledException || ex is IOException || ex is ObjectDisposedException)
                {
                    server.Dispose();
                    if (_closing.IsCancellationRequested) return;
                    server = TryNewServer();
                    if (server == null) return;
                    continue;
                }
                var connected = server;
                var task = Task.Run(() => ServeAsync(connected));
                lock (_lock)
                {
                    _handlers.RemoveAll(t => t.IsCompleted);
                    _handlers.Add(task);
                }
                server = TryNewServer();
                if (server == null) return;
            }
            server.Dispose();
        }

        NamedPipeServerStream TryNewServer()
        {
            try { return NewServer(); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException) { return null; }
        }

        async Task ServeAsync(NamedPipeServerStream stream)
        {
            using (stream)
            {
                try
                {
                    var line = await ReadLineAsync(stream).ConfigureAwait(false);
                    string answer;
                    if (line == null) return;
                    try { answer = await _handle(line).ConfigureAwait(false); }
                    catch (Exception ex) when (!(ex is OutOfMemoryException))
                    {
                        answer = "error " + ex.Message.Replace('\n', ' ') + "\n\n";
                    }
                    var bytes = Encoding.UTF8.GetBytes(answer);
                    await stream.WriteAsync(bytes, 0, bytes.Length).ConfigureAwait(false);
                    await stream.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is OperationCanceledException) { }
            }
        }

        // One line, bounded in length and time: a client that sends nothing does not hold a handler.
        static async Task<string> ReadLineAsync(Stream stream)
        {
            var buffer = new byte[MaxRequest];
            int used = 0;
            using (var timeout = new CancellationTokenSource(ReadTimeout))
            {
                while (used < buffer.Length)
                {
                    int n = await stream.ReadAsync(buffer, used, buffer.Length - used, timeout.Token).ConfigureAwait(false);
                    if (n == 0) return null;
                    int end = Array.IndexOf(buffer, (byte)'\n', used, n);
                    used += n;
                    if (end >= 0) return Encoding.ASCII.GetString(buffer, 0, end).TrimEnd('\r');
                }
            }
            return null;
        }

        /// <summary>Stops accepting and waits up to <paramref name="wait"/> for the answers being
        /// written (the answer to a stop request is written as the instance finishes stopping).</summary>
        public async Task CloseAsync(TimeSpan wait)
        {
            if (_closing.IsCancellationRequested) return;
            _closing.Cancel();
            AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            Task[] pending;
            lock (_lock) pending = _handlers.Where(t => !t.IsCompleted).ToArray();
            var all = Task.WhenAll(pending.Concat(_acceptLoop == null ? new Task[0] : new[] { _acceptLoop }));
            await Task.WhenAny(all, Task.Delay(wait)).ConfigureAwait(false);
            _location.Remove();
        }

        void OnProcessExit(object sender, EventArgs e) => _location.Remove();

        public void Dispose() => CloseAsync(TimeSpan.Zero).GetAwaiter().GetResult();
    }
}
