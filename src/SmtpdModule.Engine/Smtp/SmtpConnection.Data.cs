using System;
using System.Buffers;
using System.IO;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Smtp
{
    // DATA: the message text, read in bulk, unstuffed, its line ends checked, into the spool.
    internal sealed partial class SmtpConnection
    {
        bool _inPooled;   // _in is borrowed from ArrayPool (during DATA)

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

        /// <summary>Moves the unread input into a buffer of <paramref name="size"/> bytes (never dropping any).
        /// The large data buffer is borrowed from the shared pool and given back on the way down:
        /// a fresh 64 KiB per message was most of what a message allocated (and zeroed).</summary>
        void Resize(int size)
        {
            int unread = _len - _pos;
            if (_in.Length == size || unread > size) return;
            var pooled = size == DataBufferSize;
            var next = pooled ? ArrayPool<byte>.Shared.Rent(size) : new byte[size];
            Buffer.BlockCopy(_in, _pos, next, 0, unread);
            if (_inPooled) ArrayPool<byte>.Shared.Return(_in);
            _in = next;
            _inPooled = pooled;
            _pos = 0;
            _len = unread;
            NotePeak();
        }

        async Task<DataResult> ReadDataCoreAsync(Stream sink, long maxSize, int maxLine, bool reject)
        {
            var result = new DataResult();
            var stage = ArrayPool<byte>.Shared.Rent(8192);
            try
            {
                return await ReadDataStagedAsync(sink, maxSize, maxLine, reject, result, stage).ConfigureAwait(false);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(stage);
            }
        }

        async Task<DataResult> ReadDataStagedAsync(Stream sink, long maxSize, int maxLine, bool reject, DataResult result, byte[] stage)
        {
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
                    // IndexOfAny is vectorised on .NET: a large message is scanned many bytes at a time.
                    int found = new ReadOnlySpan<byte>(_in, _pos, _len - _pos).IndexOfAny((byte)'\r', (byte)'\n');
                    int end = found < 0 ? _len : _pos + found;
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
    }
}
