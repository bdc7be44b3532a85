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

        /// <summary>
        /// Reads message text up to the terminating sequence CRLF "." CRLF (RFC 5321 §4.1.1.4),
        /// removing dot-stuffing (§4.5.2) and writing every line with CRLF to
        /// <paramref name="sink"/> (null: read and discard). Bytes after the terminating line stay
        /// buffered for the next command.
        /// </summary>
        /// <remarks>
        /// <para>Lines are what CRLF delimits, nothing else: a lone LF or a lone CR (one not part of
        /// a CRLF pair) never ends the text, however a "." stands next to it, and a "." after one
        /// is not at a line start (SMTP smuggling, SEC Consult 2023: a server that ends the text
        /// at LF "." LF while the client's server does not lets the text carry a second, forged
        /// transaction). The text starts at a line start: "." CRLF at once is an empty message.</para>
        /// <para>Each lone CR or LF is counted (<see cref="DataResult.BareLineEndings"/>). With
        /// <paramref name="rejectBareLineEndings"/> false it is stored as CRLF, as Postfix's
        /// smtpd_forbid_bare_newline=normalize does, so nothing the forwarder sends later can be
        /// read differently downstream; true, nothing more is written after the first one and the
        /// caller refuses the message.</para>
        /// </remarks>
        public async Task<DataResult> ReadDataAsync(Stream sink, long maxSize, int maxLine, bool rejectBareLineEndings = false)
        {
            // Message text comes in bulk: read it in large blocks (fewer reads per message), and
            // give the memory back afterwards, so an idle session keeps only the small buffer.
            Resize(DataBufferSize);
            try
            {
                return await ReadDataCoreAsync(sink, maxSize, maxLine, rejectBareLineEndings).ConfigureAwait(false);
            }
            finally
            {
                Resize(_commandBufferSize);
            }
        }

        /// <summary>Moves the unread input into a buffer of <paramref name="size"/> bytes (never dropping any).</summary>
        void Resize(int size)
        {
            int unread = _len - _pos;
            if (_in.Length == size || unread > size) return;
            var next = new byte[size];
            Buffer.BlockCopy(_in, _pos, next, 0, unread);
            _in = next;
            _pos = 0;
            _len = unread;
            NotePeak();
        }

        async Task<DataResult> ReadDataCoreAsync(Stream sink, long maxSize, int maxLine, bool reject)
        {
            var result = new DataResult();
            var stage = new byte[8192];
            int staged = 0;
            var state = DataState.LineStart;
            long lineLength = 0;
            bool keep = sink != null;

            void Put(byte b)
            {
                if (++result.Size > maxSize) { result.TooBig = true; keep = false; }
                if (keep) stage[staged++] = b;
            }

            // Every byte stored in a line counts against maxLine.
            void Grow()
            {
                if (++lineLength + 2 > maxLine && !result.LineTooLong) { result.LineTooLong = true; keep = false; }
            }

            void EndLine()
            {
                Put((byte)'\r');
                Put((byte)'\n');
                lineLength = 0;
            }

            // A lone CR or LF: a line end in what is stored, or (rejecting) the end of storing.
            void Bare()
            {
                result.BareLineEndings++;
                if (reject) keep = false;
                EndLine();
            }

            while (true)
            {
                // One input byte puts at most three: flush with room to spare.
                if (staged > stage.Length - 4)
                {
                    await sink.WriteAsync(stage, 0, staged).ConfigureAwait(false);
                    staged = 0;
                }
                if (_pos == _len)
                {
                    _pos = _len = 0;
                    var status = await FillAsync(false).ConfigureAwait(false);
                    if (status != ReadStatus.Ok) { result.Status = status; return result; }
                }
                if (state == DataState.InLine)
                {
                    // The common case, in bulk: the rest of a line up to its CR or LF.
                    int end = _pos;
                    while (end < _len && _in[end] != '\r' && _in[end] != '\n') end++;
                    int run = end - _pos;
                    if (run > 0)
                    {
                        lineLength += run;
                        if (lineLength + 2 > maxLine && !result.LineTooLong) { result.LineTooLong = true; keep = false; }
                        result.Size += run;
                        if (result.Size > maxSize) { result.TooBig = true; keep = false; }
                        while (keep && run > 0)
                        {
                            int n = Math.Min(run, stage.Length - staged);
                            Buffer.BlockCopy(_in, _pos, stage, staged, n);
                            staged += n;
                            _pos += n;
                            run -= n;
                            if (staged == stage.Length)
                            {
                                await sink.WriteAsync(stage, 0, staged).ConfigureAwait(false);
                                staged = 0;
                            }
                        }
                        _pos = end;
                        continue;
                    }
                }
                byte c = _in[_pos++];
                switch (state)
                {
                    case DataState.LineStart:
                        if (c == '.') { state = DataState.Dot; continue; }
                        goto case DataState.InLine;
                    case DataState.Dot:
                        if (c == '\r') { state = DataState.DotCr; continue; }
                        goto case DataState.InLine;   // a leading dot is removed (dot-stuffing)
                    case DataState.DotCr:
                        if (c == '\n') goto end;     // CRLF "." CRLF, the only end
                        Bare();                       // "." and a lone CR: an empty line
                        goto case DataState.InLine;
                    case DataState.Cr:
                        if (c == '\n')
                        {
                            EndLine();
                            state = DataState.LineStart;
                            continue;
                        }
                        Bare();
                        goto case DataState.InLine;
                    case DataState.InLine:
                        if (c == '\r') { state = DataState.Cr; continue; }
                        state = DataState.InLine;
                        // A lone LF ends a stored line, but what follows is not at a line start:
                        // a "." there is text, never stuffing and never the end.
                        if (c == '\n') { Bare(); continue; }
                        Grow();
                        Put(c);
                        continue;
                }
            }
        end:
            if (keep && staged > 0) await sink.WriteAsync(stage, 0, staged).ConfigureAwait(false);
            result.Status = ReadStatus.Ok;
            return result;
        }

        enum DataState { LineStart, Dot, DotCr, InLine, Cr }

        internal sealed class DataResult
        {
            public ReadStatus Status;
            /// <summary>Bytes of text as stored (after unstuffing, lone CRs and LFs as CRLF).</summary>
            public long Size;
            public bool TooBig;
            public bool LineTooLong;
            /// <summary>Lone CRs and LFs in the text, each stored as CRLF unless rejecting.</summary>
            public long BareLineEndings;
        }

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
