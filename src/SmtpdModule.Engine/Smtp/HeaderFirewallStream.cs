using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Smtp
{
    /// <summary>
    /// Between the DATA reader and the spool: removes from the header section (RFC 5322 §2.1, up
    /// to the first empty line) every field whose name matches, with its folded continuation lines
    /// (§2.2.3); the body passes untouched, in the caller's blocks. The input is the reader's
    /// output, so every line ends in CRLF.
    /// </summary>
    /// <remarks>
    /// Fields a downstream server believes only from its own side (Exchange's
    /// X-MS-Exchange-Organization-* among them: a connector that treats the proxy as internal
    /// honours them, spam confidence level included) must not come from outside. A name is what
    /// precedes the first ':' less trailing blanks (the obsolete "Name : value" form, §4.5.3.1,
    /// that lenient parsers still read). A line that is no field (no ':') does not end the
    /// section: a parser that skips it would still read the fields after it.
    /// </remarks>
    internal sealed class HeaderFirewallStream : Stream
    {
        enum Mode { LineStart, Name, Keep, Drop, Body }

        readonly Stream _inner;
        readonly HeaderNameMatcher _matcher;
        Mode _mode = Mode.LineStart;
        bool _dropping;            // the current field is removed: so are its continuation lines
        byte[] _name = new byte[256];
        int _nameLength;

        public HeaderFirewallStream(Stream inner, HeaderNameMatcher matcher)
        {
            _inner = inner;
            _matcher = matcher;
        }

        /// <summary>Fields removed so far.</summary>
        public int Removed { get; private set; }

        public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_mode != Mode.Body)
            {
                int used = Headers(buffer, offset, count);
                offset += used;
                count -= used;
            }
            if (count > 0) await _inner.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            if (_mode != Mode.Body)
            {
                int used = Headers(buffer, offset, count);
                offset += used;
                count -= used;
            }
            if (count > 0) _inner.Write(buffer, offset, count);
        }

        /// <summary>Filters header bytes; returns how many it took (all, or up to the end of the
        /// empty line that starts the body).</summary>
        int Headers(byte[] b, int offset, int count)
        {
            int i = offset, end = offset + count;
            while (i < end && _mode != Mode.Body)
            {
                switch (_mode)
                {
                    case Mode.LineStart:
                        if (b[i] == ' ' || b[i] == '\t')
                        {
                            _mode = _dropping ? Mode.Drop : Mode.Keep;   // a continuation line
                            continue;
                        }
                        _dropping = false;
                        _nameLength = 0;
                        _mode = Mode.Name;
                        continue;
                    case Mode.Name:
                    {
                        byte c = b[i++];
                        if (c == ':')
                        {
                            int n = _nameLength;
                            while (n > 0 && (_name[n - 1] == ' ' || _name[n - 1] == '\t')) n--;
                            _dropping = n > 0 && _matcher.Matches(_name, 0, n);
                            if (_dropping) { Removed++; _mode = Mode.Drop; }
                            else { Hold(c); _inner.Write(_name, 0, _nameLength); _mode = Mode.Keep; }
                            continue;
                        }
                        Hold(c);
                        if (c != '\n') continue;
                        // A line without a colon: kept. CRLF alone is the empty line: the body follows.
                        _inner.Write(_name, 0, _nameLength);
                        _mode = _nameLength == 2 && _name[0] == '\r' ? Mode.Body : Mode.LineStart;
                        continue;
                    }
                    default:
                    {
                        int lf = Array.IndexOf(b, (byte)'\n', i, end - i);
                        int stop = lf < 0 ? end : lf + 1;
                        if (_mode == Mode.Keep) _inner.Write(b, i, stop - i);
                        i = stop;
                        if (lf >= 0) _mode = Mode.LineStart;
                        continue;
                    }
                }
            }
            return i - offset;
        }

        void Hold(byte c)
        {
            // Bounded by the reader's line limit: past it the reader writes nothing more.
            if (_nameLength == _name.Length) Array.Resize(ref _name, _name.Length * 2);
            _name[_nameLength++] = c;
        }

        /// <summary>Writes a name still held (text that ended inside its first line: the reader
        /// never stores that, but nothing is lost if it did).</summary>
        public void Complete()
        {
            if (_mode == Mode.Name && _nameLength > 0) _inner.Write(_name, 0, _nameLength);
            _nameLength = 0;
        }

        public override void Flush() => _inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
