using System;
using System.IO;

namespace SmtpdModule.Engine.Evidence
{
    /// <summary>
    /// The lines of a stream as byte ranges of one reused buffer: nothing is decoded until a
    /// reader wants a line, so lines passed over cost a search for the newline and little more.
    /// A line is at most <see cref="MaxLineLength"/> bytes; a longer one (no log line is, but a
    /// file may be anything) is passed over whole and said to be too long, so memory stays bounded.
    /// </summary>
    internal sealed class LogLineScanner
    {
        public const int MaxLineLength = 16 * 1024 * 1024;
        const int ChunkSize = 1 << 20;

        readonly Stream _stream;
        byte[] _buffer = new byte[ChunkSize];
        int _start, _end;          // unread bytes are _buffer[_start.._end)
        bool _eof, _first = true;

        public LogLineScanner(Stream stream) { _stream = stream; }

        public byte[] Buffer => _buffer;
        /// <summary>Bytes taken from the stream so far.</summary>
        public long BytesRead { get; private set; }

        /// <summary>The next line without its newline (and CR), at <paramref name="start"/> in
        /// <see cref="Buffer"/>; <paramref name="tooLong"/> when it was longer than the bound
        /// (then its bytes are not given). False at the end of the stream.</summary>
        public bool Next(out int start, out int length, out bool tooLong)
        {
            tooLong = false;
            int searchFrom = _start;
            while (true)
            {
                int nl = Array.IndexOf(_buffer, (byte)'\n', searchFrom, _end - searchFrom);
                if (nl >= 0)
                {
                    start = _start;
                    length = nl - _start;
                    _start = nl + 1;
                    if (length > 0 && _buffer[start + length - 1] == '\r') length--;
                    return true;
                }
                if (_eof)
                {
                    start = _start;
                    length = _end - _start;
                    _start = _end;
                    if (length == 0) return false;
                    if (_buffer[start + length - 1] == '\r') length--;
                    return true;
                }
                if (_end - _start >= MaxLineLength)
                {
                    // Pass over the rest of the line without keeping it.
                    _start = _end = 0;
                    while (!_eof)
                    {
                        Fill();
                        int end = Array.IndexOf(_buffer, (byte)'\n', 0, _end);
                        if (end >= 0) { _start = end + 1; break; }
                        _start = _end = 0;
                    }
                    start = length = 0;
                    tooLong = true;
                    return true;
                }
                searchFrom = _end;
                int kept = _start;
                Fill();
                searchFrom -= kept - _start;
            }
        }

        /// <summary>Reads more: moves what is unread to the front, grows the buffer when a line fills it.</summary>
        void Fill()
        {
            if (_start > 0)
            {
                System.Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxLineLength + ChunkSize));
            int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0) { _eof = true; return; }
            BytesRead += n;
            if (_first)
            {
                _first = false;
                // A byte order mark an editor added is not part of the first line.
                if (n >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF) _start = 3;
            }
            _end += n;
        }
    }
}
