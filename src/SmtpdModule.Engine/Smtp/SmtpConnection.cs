using System;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// The byte side of a session: one input buffer shared by command lines and DATA (so bytes a
    /// client pipelines after DATA or after the final dot are never lost, RFC 2920), one output
    /// buffer flushed only when the client has nothing more buffered, and a deadline on every read
    /// and write. Memory is bounded: the input buffer never grows beyond the longest command line
    /// (the DATA buffer while reading text), and queued replies go out before every wait for input
    /// and past <see cref="OutputFlushThreshold"/>, so a pipelining flood meets TCP back-pressure
    /// and the write deadline instead of a growing reply buffer.
    /// </summary>
    internal sealed partial class SmtpConnection : IDisposable
    {
        internal enum ReadStatus { Ok, TooLong, Eof, Timeout, Stopped }

        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);

        readonly Socket _socket;
        readonly TimeSpan _readTimeout;
        readonly CancellationToken _stopping;
        Stream _stream;
        byte[] _in;
        readonly int _commandBufferSize;
        const int DataBufferSize = 64 * 1024;
        int _pos, _len;
        byte[] _out = new byte[512];
        int _outLen;
        long _bytesIn;
        int _peakBuffered;

        /// <summary>Replies queued beyond this many bytes go out even while pipelined commands wait:
        /// a client that floods commands without reading cannot make us hold its answers.</summary>
        internal const int OutputFlushThreshold = 16 * 1024;

        public SmtpConnection(Socket socket, Stream stream, int maxCommandLine, TimeSpan readTimeout, CancellationToken stopping)
        {
            _socket = socket;
            _stream = stream;
            _readTimeout = readTimeout;
            _stopping = stopping;
            _commandBufferSize = Math.Max(4096, maxCommandLine + 2);
            _in = new byte[_commandBufferSize];
            NotePeak();
        }

        /// <summary>True while the proxy is under stress (near its session limit); reads then wait
        /// at most <see cref="StressTimeout"/>. Null: never.</summary>
        public Func<bool> UnderStress { get; set; }

        /// <summary>The read deadline under stress, and the time a whole command line may take then.</summary>
        public TimeSpan StressTimeout { get; set; } = TimeSpan.FromSeconds(10);

        // Under stress idle and trickling sessions give their slots back quickly (as Postfix's
        // smtpd does): a Slowloris client sending a byte every few seconds cannot hold them.
        TimeSpan CurrentTimeout => UnderStress != null && UnderStress() && StressTimeout < _readTimeout ? StressTimeout : _readTimeout;

        public bool HasBufferedInput => _pos < _len;

        /// <summary>Whether the last line <see cref="ReadLineAsync"/> returned was well-formed UTF-8
        /// (the returned string has U+FFFD where it was not).</summary>
        public bool LastLineWellFormed { get; private set; } = true;
        public long BytesIn => _bytesIn;
        /// <summary>The most this connection ever held in its input and output buffers together, in bytes.</summary>
        public int PeakBuffered => _peakBuffered;

        void NotePeak()
        {
            int now = _in.Length + _out.Length;
            if (now > _peakBuffered) _peakBuffered = now;
        }
        public Stream Stream => _stream;

        /// <summary>STARTTLS: the plaintext a client pipelined after the command must not be read as protected (RFC 3207 §4.2).</summary>
        public void DiscardBufferedInput() => _pos = _len = 0;

        public void UseStream(Stream stream) => _stream = stream;

        /// <summary>Reads one line without its line ending. A line over <paramref name="maxLength"/> bytes
        /// (ending included) is skipped to its end and reported TooLong.</summary>
        /// <remarks>The whole line must arrive within the read timeout (or the stress timeout), not
        /// just each read: a byte every few seconds does not keep a session alive.</remarks>
        public async Task<(ReadStatus Status, string Line)> ReadLineAsync(int maxLength, bool stopWhenIdle)
        {
            bool skipping = false;
            var started = DateTime.UtcNow;
            while (true)
            {
                int lf = Array.IndexOf(_in, (byte)'\n', _pos, _len - _pos);
                if (lf >= 0)
                {
                    int start = _pos;
                    _pos = lf + 1;
                    if (skipping || lf + 1 - start > maxLength) return (ReadStatus.TooLong, null);
                    int end = lf > start && _in[lf - 1] == '\r' ? lf - 1 : lf;
                    LastLineBareNewline = end == lf;
                    LastLineWellFormed = Utf8Validator.IsWellFormed(_in, start, end - start);
                    return (ReadStatus.Ok, Utf8.GetString(_in, start, end - start));
                }
                if (_len - _pos >= maxLength)
                {
                    skipping = true;   // too long already: drop what we have and look for its end
                    _pos = _len = 0;
                }
                Compact();
                // About to wait for the client: answer what it has sent so far first (RFC 2920 §3.1).
                // Without this a flood whose reads always end mid-line would never be answered, and
                // its replies would pile up here without bound.
                if (_outLen > 0) await FlushAsync().ConfigureAwait(false);
                var left = CurrentTimeout - (DateTime.UtcNow - started);
                if (left <= TimeSpan.Zero) return (ReadStatus.Timeout, null);
                var status = await FillAsync(stopWhenIdle && !skipping && _len == 0, left).ConfigureAwait(false);
                if (status != ReadStatus.Ok) return (status, null);
            }
        }

        void Compact()
        {
            if (_pos == 0) return;
            Buffer.BlockCopy(_in, _pos, _in, 0, _len - _pos);
            _len -= _pos;
            _pos = 0;
        }

        /// <summary>Reads more input into the buffer, within the read deadline.</summary>
        async Task<ReadStatus> FillAsync(bool watchStop, TimeSpan? timeout = null)
        {
            Task<int> read = TakePendingRead();
            if (read == null)
            {
                if (_len == _in.Length) Compact();
                try { read = _stream.ReadAsync(_in, _len, _in.Length - _len); }
                catch (Exception ex) when (IsConnectionError(ex)) { return ReadStatus.Eof; }
            }
            if (!read.IsCompleted)
            {
                var outcome = await WaitAsync(read, watchStop ? _stopping : CancellationToken.None, timeout ?? CurrentTimeout).ConfigureAwait(false);
                if (outcome != ReadStatus.Ok) return outcome;
            }
            int n;
            try { n = await read.ConfigureAwait(false); }
            catch (Exception ex) when (IsConnectionError(ex)) { return ReadStatus.Eof; }
            if (n <= 0) return ReadStatus.Eof;
            _len += n;
            _bytesIn += n;
            return ReadStatus.Ok;
        }

        /// <summary>
        /// Waits for <paramref name="operation"/> within the deadline, or until the proxy stops.
        /// One linked token source and one registration per wait, all released when it ends:
        /// nothing accumulates on long-lived shared objects (Task.WhenAny on a shared stop task
        /// would leave a continuation behind per wait on .NET Framework).
        /// </summary>
        async Task<ReadStatus> WaitAsync(Task operation, CancellationToken stop, TimeSpan timeout)
        {
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                cts.CancelAfter(timeout);
                var fired = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                using (cts.Token.Register(() => fired.TrySetResult(true)))
                {
                    if (await Task.WhenAny(operation, fired.Task).ConfigureAwait(false) == operation) return ReadStatus.Ok;
                }
            }
            Observe(operation);   // it completes with an error when the socket is closed
            return stop.IsCancellationRequested ? ReadStatus.Stopped : ReadStatus.Timeout;
        }

        static void Observe(Task t) => t.ContinueWith(x => { _ = x.Exception; }, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously);

        internal static bool IsConnectionError(Exception ex) =>
            ex is IOException || ex is SocketException || ex is ObjectDisposedException || ex is System.Security.Authentication.AuthenticationException;

        /// <summary>Queues a reply; it goes out at the next flush.</summary>
        public void Write(string text)
        {
            int max = Utf8.GetMaxByteCount(text.Length);
            if (_outLen + max > _out.Length)
            {
                Array.Resize(ref _out, Math.Max(_out.Length * 2, _outLen + max));
                NotePeak();
            }
            _outLen += Utf8.GetBytes(text, 0, text.Length, _out, _outLen);
        }

        public void Write(SmtpReply reply) => Write(reply.ToWire());

        /// <summary>Sends queued replies, within the read deadline (a client that never reads cannot hold us).</summary>
        public async Task FlushAsync()
        {
            if (_outLen == 0) return;
            int n = _outLen;
            _outLen = 0;
            var write = _stream.WriteAsync(_out, 0, n);
            if (!write.IsCompleted && await WaitAsync(write, CancellationToken.None, CurrentTimeout).ConfigureAwait(false) != ReadStatus.Ok)
                throw new IOException("write timed out");
            await write.ConfigureAwait(false);
            await _stream.FlushAsync().ConfigureAwait(false);
            if (_out.Length > 4096) _out = new byte[512];   // a long EHLO or rule reply: do not keep the buffer
        }

        /// <summary>Flushes only when the client has no further pipelined commands buffered (RFC 2920 §3.1),
        /// or when the queued replies pass <see cref="OutputFlushThreshold"/>.</summary>
        public Task FlushIfIdleAsync() => HasBufferedInput && _outLen < OutputFlushThreshold ? Task.CompletedTask : FlushAsync();

        public void Dispose()
        {
            // An orderly close: FIN first, so a client reading our last reply sees end of stream,
            // not a reset (closing with a read pending is abortive on some platforms).
            try { _socket.Shutdown(SocketShutdown.Send); } catch (Exception ex) when (IsConnectionError(ex)) { }
            try { _stream.Dispose(); } catch (Exception ex) when (IsConnectionError(ex)) { }
            try { _socket.Dispose(); } catch (Exception ex) when (IsConnectionError(ex)) { }
        }
    }
}
