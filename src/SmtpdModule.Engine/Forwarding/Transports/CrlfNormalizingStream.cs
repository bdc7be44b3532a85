using System;
using System.Buffers;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Reads spooled bytes with every lone CR and lone LF turned into CRLF, the rule the proxy
    /// applies when it spools (SmtpConnection.ReadDataAsync). Mail spooled by the proxy already
    /// has CRLF only, and passes unchanged; this guards what an older version, another tool or a
    /// hand placed in the spool, so that no lone CR or LF reaches the next hop, where a server
    /// might read it as a line end (or an end of data) that the sender's MailKit did not dot-stuff
    /// (MailKit stuffs a "." after LF only).
    /// </summary>
    internal sealed class CrlfNormalizingStream : Stream
    {
        readonly Stream _inner;
        // Borrowed from the shared pool (one stream per message sent) and given back at Dispose.
        const int InSize = 32 * 1024;
        byte[] _in = ArrayPool<byte>.Shared.Rent(InSize);
        byte[] _out = ArrayPool<byte>.Shared.Rent(2 * InSize + 1);   // each byte read puts at most two
        int _outPos, _outLen;
        bool _afterCr;   // a CR went out; an LF must follow, whatever comes next
        bool _eof;

        public CrlfNormalizingStream(Stream inner) => _inner = inner;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_outPos == _outLen && !_eof) Transform(_inner.Read(_in, 0, InSize));
            return Take(buffer, offset, count);
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_outPos == _outLen && !_eof) Transform(await _inner.ReadAsync(_in, 0, InSize, cancellationToken).ConfigureAwait(false));
            return Take(buffer, offset, count);
        }

        public override int ReadByte()
        {
            if (_outPos == _outLen && !_eof) Transform(_inner.Read(_in, 0, InSize));
            return _outPos < _outLen ? _out[_outPos++] : -1;
        }

        int Take(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, _outLen - _outPos);
            Buffer.BlockCopy(_out, _outPos, buffer, offset, n);
            _outPos += n;
            return n;
        }

        void Transform(int n)
        {
            int o = 0;
            if (n <= 0)
            {
                _eof = true;
                if (_afterCr) _out[o++] = (byte)'\n';   // a CR at the very end
                _afterCr = false;
            }
            for (int i = 0; i < n; i++)
            {
                byte c = _in[i];
                if (_afterCr)
                {
                    _afterCr = false;
                    _out[o++] = (byte)'\n';
                    if (c == '\n') continue;            // the CRLF pair itself
                }
                else if (c == '\n') _out[o++] = (byte)'\r';   // a lone LF
                _out[o++] = c;
                if (c == '\r') _afterCr = true;
            }
            _outPos = 0;
            _outLen = o;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
                if (_in != null)
                {
                    ArrayPool<byte>.Shared.Return(_in);
                    ArrayPool<byte>.Shared.Return(_out);
                    _in = _out = null;
                }
            }
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
