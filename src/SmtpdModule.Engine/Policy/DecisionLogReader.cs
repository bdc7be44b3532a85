using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;

namespace SmtpdModule.Engine.Policy
{
    /// <summary>
    /// Reads a proxy's decision log (JSON Lines, UTF-8) from a stream, fast enough for a replay of
    /// millions of decisions: large reads, lines found in the bytes, each line read straight from
    /// them (<see cref="DecisionLineParser"/>, with <see cref="DecisionRecordReader"/>'s results and
    /// messages). Other events and empty lines are passed over; a bad line is reported with its
    /// number and the read goes on. Lines end as <see cref="StreamReader.ReadLine"/> ends them (LF,
    /// CR or CRLF), so line numbers are the ones a text reader gives; a UTF-8 byte-order mark at the
    /// start is skipped. A line longer than the maximum is reported and skipped without being held
    /// in memory whole. The last line needs no line end. Not thread-safe.
    /// </summary>
    public sealed class DecisionLogReader : IDisposable
    {
        /// <summary>Far past any record the proxy writes; a longer line is damage, not data.</summary>
        public const int DefaultMaxLineLength = 1 << 20;
        const int InitialBufferSize = 1 << 16;

        readonly Stream _stream;
        readonly bool _leaveOpen;
        readonly int _maxLineLength;
        readonly CancellationToken _cancellationToken;
        readonly DecisionLineParser _parser = new DecisionLineParser();
        byte[] _buffer;
        int _start;            // the next line's first byte
        int _scanned;          // bytes after _start known to hold no line end
        int _end;              // bytes read into _buffer
        long _bufferOffset;    // the stream position of _buffer[0]
        bool _eof;
        bool _started;
        bool _skipLineFeed;    // the last line ended with CR at the end of what was read
        long _lineNumber;

        /// <summary>Reads the log in <paramref name="stream"/> from its current position.</summary>
        /// <param name="stream">A readable stream; disposed with the reader unless <paramref name="leaveOpen"/>.</param>
        /// <param name="maxLineLength">The longest line, in bytes, that is read; longer ones are reported and skipped.</param>
        /// <param name="leaveOpen">Leave <paramref name="stream"/> open when the reader is disposed.</param>
        /// <param name="cancellationToken">Checked before each read from the stream.</param>
        /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLineLength"/> is below 1.</exception>
        public DecisionLogReader(Stream stream, int maxLineLength = DefaultMaxLineLength, bool leaveOpen = false, CancellationToken cancellationToken = default)
        {
            _stream = stream ?? throw new ArgumentNullException(nameof(stream));
            if (maxLineLength < 1 || maxLineLength > int.MaxValue - 2) throw new ArgumentOutOfRangeException(nameof(maxLineLength));
            _maxLineLength = maxLineLength;
            _leaveOpen = leaveOpen;
            _cancellationToken = cancellationToken;
            _buffer = new byte[Math.Min(InitialBufferSize, maxLineLength + 2)];
        }

        /// <summary>A reader of the log file at <paramref name="path"/>, which the proxy may be appending to.</summary>
        /// <exception cref="IOException">The file cannot be opened (FileNotFoundException and the like).</exception>
        /// <exception cref="UnauthorizedAccessException">The file may not be read.</exception>
        public static DecisionLogReader Open(string path, int maxLineLength = DefaultMaxLineLength, CancellationToken cancellationToken = default) =>
            // No FileStream buffer: the reader's own reads are large.
            new DecisionLogReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1),
                                  maxLineLength, false, cancellationToken);

        /// <summary>The number of the last line read (0 before the first).</summary>
        public long LineNumber => _lineNumber;

        /// <summary>Bytes of the stream consumed through the last line read: progress against the stream's length.</summary>
        public long Position => _bufferOffset + _start;

        /// <summary>Reads on to the next decision record or unreadable line.</summary>
        /// <returns>False at the end of the stream.</returns>
        /// <exception cref="IOException">Reading the stream failed.</exception>
        /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
        public bool Read(out DecisionLogEntry entry)
        {
            while (NextLine(out int start, out int length, out bool tooLong))
            {
                _lineNumber++;
                if (tooLong)
                {
                    entry = new DecisionLogEntry(_lineNumber, null,
                        new FormatException("The line is longer than " + _maxLineLength + " bytes; it was skipped."));
                    return true;
                }
                if (length == 0) continue;
                DecisionRecord record;
                try { record = _parser.Parse(_buffer, start, length); }
                catch (FormatException ex)
                {
                    entry = new DecisionLogEntry(_lineNumber, null, ex);
                    return true;
                }
                if (record == null) continue;
                entry = new DecisionLogEntry(_lineNumber, record, null);
                return true;
            }
            entry = default;
            return false;
        }

        /// <summary>Every record and unreadable line left, in order.</summary>
        public IEnumerable<DecisionLogEntry> ReadAll()
        {
            while (Read(out var entry)) yield return entry;
        }

        /// <summary>The next line's bytes in <see cref="_buffer"/> (without its end); <paramref name="tooLong"/>
        /// when it was longer than the maximum and has been skipped.</summary>
        bool NextLine(out int start, out int length, out bool tooLong)
        {
            bool skipping = false;
            tooLong = false;
            if (!_started) SkipByteOrderMark();
            while (true)
            {
                if (_skipLineFeed)
                {
                    if (_start == _end && !_eof) { Fill(false); continue; }
                    if (_start < _end && _buffer[_start] == '\n') _start++;
                    _skipLineFeed = false;
                }
                int at = _scanned < _end - _start
                    ? new ReadOnlySpan<byte>(_buffer, _start + _scanned, _end - _start - _scanned).IndexOfAny((byte)'\n', (byte)'\r')
                    : -1;
                if (at >= 0)
                {
                    int lineEnd = _start + _scanned + at;
                    int next = lineEnd + 1;
                    if (_buffer[lineEnd] == '\r')
                    {
                        if (next < _end) { if (_buffer[next] == '\n') next++; }
                        else _skipLineFeed = true;   // CRLF or CR alone: the next read says
                    }
                    start = _start;
                    length = lineEnd - _start;
                    tooLong = skipping || length > _maxLineLength;
                    _start = next;
                    _scanned = 0;
                    return true;
                }
                _scanned = _end - _start;
                if (_end - _start > _maxLineLength)
                {
                    // Too long to keep: drop what is held and read on to the line's end.
                    skipping = true;
                    _bufferOffset += _end;
                    _start = _end = _scanned = 0;
                }
                if (_eof)
                {
                    start = _start;
                    length = _end - _start;
                    if (length == 0 && !skipping) return false;
                    tooLong = skipping;
                    _start = _end;
                    _scanned = 0;
                    return true;
                }
                Fill(skipping);
            }
        }

        /// <summary>Reads more after what is held, moving the unread part to the front or growing the
        /// buffer when it is full (not while a too-long line is being skipped).</summary>
        void Fill(bool skipping)
        {
            _cancellationToken.ThrowIfCancellationRequested();
            if (_end == _buffer.Length)
            {
                if (_start > 0)
                {
                    Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                    _bufferOffset += _start;
                    _end -= _start;
                    _start = 0;
                }
                else if (!skipping)
                    Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, _maxLineLength + 2L));
            }
            int read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (read == 0) _eof = true;
            else _end += read;
        }

        void SkipByteOrderMark()
        {
            _started = true;
            while (_end < 3 && !_eof) Fill(false);
            if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _start = _scanned = 3;
        }

        public void Dispose()
        {
            if (!_leaveOpen) _stream.Dispose();
        }
    }
}
