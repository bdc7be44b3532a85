using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Metrics
{
    /// <summary>
    /// A minimal HTTP/1.1 server (RFC 9112) that answers <c>GET /metrics</c> with what a render
    /// function writes, for Prometheus to scrape. A plain socket, not HttpListener: on Windows
    /// HttpListener goes through http.sys, which needs a URL reservation (<c>netsh http add urlacl</c>)
    /// before a non-administrator service account may listen; a socket needs none.
    /// </summary>
    /// <remarks>
    /// Every byte from the network is hostile. One request per connection (<c>Connection: close</c>);
    /// the request head is bounded (<see cref="MetricsEndpointOptions.MaxRequestHead"/>, then 431) and
    /// must arrive within <see cref="MetricsEndpointOptions.ReadTimeout"/> as a whole, so a client that
    /// trickles bytes is dropped as surely as one that sends nothing; connections beyond
    /// <see cref="MetricsEndpointOptions.MaxConcurrentScrapes"/> are closed at once. Rendering happens
    /// only for a valid scrape, so nothing a client sends reaches the metric sources.
    /// </remarks>
    public sealed class MetricsEndpoint : IDisposable
    {
        readonly TcpListener _listener;
        readonly Func<string> _render;
        readonly MetricsEndpointOptions _options;
        readonly CancellationTokenSource _stop = new CancellationTokenSource();
        readonly ConcurrentDictionary<Socket, Task> _open = new ConcurrentDictionary<Socket, Task>();
        Task _acceptLoop;
        int _active;

        MetricsEndpoint(TcpListener listener, Func<string> render, MetricsEndpointOptions options)
        {
            _listener = listener;
            _render = render;
            _options = options;
            LocalEndPoint = (IPEndPoint)listener.LocalEndpoint;
        }

        /// <summary>The end point bound: with port 0 asked for, the port the system chose.</summary>
        public IPEndPoint LocalEndPoint { get; }

        /// <summary>Parses a listen address as <c>-MetricsListen</c> takes it: <c>ip:port</c> or
        /// <c>[v6]:port</c>; the port is required, 0 picks a free one.</summary>
        /// <returns>False with <paramref name="why"/> when <paramref name="text"/> is not one.</returns>
        public static bool TryParseListen(string text, out IPEndPoint endPoint, out string why) =>
            IPText.TryParseEndPoint(text, -1, allowPortZero: true, allowUnspecified: true, out endPoint, out why);

        /// <summary>Binds <paramref name="listen"/> and starts serving <paramref name="render"/>'s text.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="listen"/> or <paramref name="render"/> is null.</exception>
        /// <exception cref="ArgumentException">An option is out of range.</exception>
        /// <exception cref="MetricsListenException">The end point cannot be bound.</exception>
        public static MetricsEndpoint Start(IPEndPoint listen, Func<string> render, MetricsEndpointOptions options = null)
        {
            if (listen == null) throw new ArgumentNullException(nameof(listen));
            if (render == null) throw new ArgumentNullException(nameof(render));
            options = options ?? new MetricsEndpointOptions();
            options.Validate();
            var listener = new TcpListener(listen);
            try
            {
                if (listen.AddressFamily == AddressFamily.InterNetworkV6)
                    listener.Server.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, true);
                listener.Start(64);
            }
            catch (SocketException ex)
            {
                listener.Server.Dispose();
                throw new MetricsListenException(TextOf(listen), ex);
            }
            var endpoint = new MetricsEndpoint(listener, render, options);
            endpoint._acceptLoop = Task.Run(endpoint.AcceptLoopAsync);
            return endpoint;
        }

        static string TextOf(IPEndPoint ep) =>
            ep.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + ep.Address + "]:" + ep.Port : ep.Address + ":" + ep.Port;

        async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await _listener.AcceptSocketAsync().ConfigureAwait(false); }
                catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException || ex is InvalidOperationException)
                {
                    if (_stop.IsCancellationRequested) return;
                    await Task.Delay(50).ConfigureAwait(false);   // out of descriptors, a reset in the backlog
                    continue;
                }
                if (Interlocked.Increment(ref _active) > _options.MaxConcurrentScrapes)
                {
                    Interlocked.Decrement(ref _active);
                    socket.Dispose();
                    continue;
                }
                var gate = new TaskCompletionSource<bool>();
                var task = ServeAsync(socket, gate.Task);
                _open[socket] = task;
                gate.SetResult(true);
            }
        }

        async Task ServeAsync(Socket socket, Task registered)
        {
            await registered.ConfigureAwait(false);
            await Task.Yield();
            try
            {
                socket.NoDelay = true;
                var head = await ReadHeadAsync(socket).ConfigureAwait(false);
                if (head == null) return;   // closed, timed out or stopping: nothing to answer
                int status;
                bool isHead = false;
                if (head.Length == 0) status = 431;
                else status = ScrapeRequest.Answer(head, out isHead);
                Respond(socket, status, isHead);
            }
            catch (Exception ex) when (ex is SocketException || ex is ObjectDisposedException || ex is System.IO.IOException) { }
            finally
            {
                _open.TryRemove(socket, out _);
                socket.Dispose();
                Interlocked.Decrement(ref _active);
            }
        }

        /// <summary>The request line; "" when the head is over the limit; null when the client went
        /// away, took too long, or the endpoint is stopping.</summary>
        async Task<string> ReadHeadAsync(Socket socket)
        {
            var buffer = new byte[_options.MaxRequestHead];
            var length = 0;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
            {
                timeout.CancelAfter(_options.ReadTimeout);
                var expired = Task.Delay(Timeout.Infinite, timeout.Token);
                while (true)
                {
                    if (length == buffer.Length) return "";
                    var read = socket.ReceiveAsync(new ArraySegment<byte>(buffer, length, buffer.Length - length), SocketFlags.None);
                    if (await Task.WhenAny(read, expired).ConfigureAwait(false) != read)
                    {
                        // Closing the socket ends the read; its fault is expected and observed here.
                        _ = read.ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
                        return null;
                    }
                    var n = await read.ConfigureAwait(false);
                    if (n == 0) return null;
                    length += n;
                    var end = EndOfHead(buffer, length);
                    if (end >= 0) return RequestLine(buffer, end);
                }
            }
        }

        /// <summary>Where the head ends (the empty line; a bare LF accepted as RFC 9112 §2.2 allows), or -1.</summary>
        static int EndOfHead(byte[] b, int length)
        {
            for (var i = 1; i < length; i++)
                if (b[i] == '\n' && (b[i - 1] == '\n' || (i >= 2 && b[i - 1] == '\r' && b[i - 2] == '\n'))) return i;
            return -1;
        }

        static string RequestLine(byte[] b, int end)
        {
            var lf = Array.IndexOf(b, (byte)'\n', 0, end + 1);
            var len = lf > 0 && b[lf - 1] == '\r' ? lf - 1 : lf;
            // Latin-1 keeps one char per byte, so the request check sees every byte as it came.
            var chars = new char[len];
            for (var i = 0; i < len; i++) chars[i] = (char)b[i];
            return new string(chars);
        }

        void Respond(Socket socket, int status, bool isHead)
        {
            byte[] body;
            var type = "text/plain; charset=utf-8";
            if (status == 200)
            {
                try
                {
                    body = Encoding.UTF8.GetBytes(_render());
                    type = PrometheusTextWriter.ContentType;
                }
                catch (Exception ex) when (!(ex is OutOfMemoryException))
                {
                    // A source that failed must not take the endpoint down; the scrape fails visibly.
                    status = 500;
                    body = Encoding.UTF8.GetBytes("metrics could not be rendered\n");
                }
            }
            else body = Encoding.UTF8.GetBytes(ScrapeRequest.ReasonOf(status) + "\n");
            var head = new StringBuilder(160)
                .Append("HTTP/1.1 ").Append(status).Append(' ').Append(ScrapeRequest.ReasonOf(status)).Append("\r\n")
                .Append("Content-Type: ").Append(type).Append("\r\n")
                .Append("Content-Length: ").Append(body.Length).Append("\r\n");
            if (status == 405) head.Append("Allow: GET, HEAD\r\n");
            head.Append("Connection: close\r\n\r\n");
            var headBytes = Encoding.ASCII.GetBytes(head.ToString());
            socket.SendTimeout = (int)Math.Min(int.MaxValue, _options.ReadTimeout.TotalMilliseconds);
            socket.Send(headBytes);
            if (!isHead) socket.Send(body);
            socket.Shutdown(SocketShutdown.Send);
            Drain(socket);
        }

        // Closing with unread bytes would send a reset that can destroy the answer before the
        // client reads it (RFC 9112 §9.6): read what is left, briefly and boundedly, first.
        void Drain(Socket socket)
        {
            socket.ReceiveTimeout = (int)Math.Min(1000, _options.ReadTimeout.TotalMilliseconds);
            var scrap = new byte[1024];
            for (var total = 0; total < 65536;)
            {
                int n;
                try { n = socket.Receive(scrap); }
                catch (SocketException) { return; }
                if (n == 0) return;
                total += n;
            }
        }

        /// <summary>Stops listening and closes every connection; returns within about a second.</summary>
        public void Dispose()
        {
            if (_stop.IsCancellationRequested) return;
            _stop.Cancel();
            try { _listener.Stop(); } catch (SocketException) { }
            foreach (var s in _open.Keys) { try { s.Dispose(); } catch (ObjectDisposedException) { } }
            var all = new System.Collections.Generic.List<Task>(_open.Values);
            if (_acceptLoop != null) all.Add(_acceptLoop);
            try { Task.WaitAll(all.ToArray(), TimeSpan.FromSeconds(1)); }
            catch (AggregateException) { }
        }
    }
}
