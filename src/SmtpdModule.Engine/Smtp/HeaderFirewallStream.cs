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
    /// Authentication-Results fields are removed by their value: those that claim the proxy's
    /// authserv-id (RFC 8601 §5), which downstream filters trust as the proxy's own verdicts. The
    /// field is held until its authserv-id (after any comments) is read; one that hides it past
    /// <see cref="ClaimLimit"/> bytes is removed too.
    /// </remarks>
    internal sealed class HeaderFirewallStream : Stream
    {
        enum Mode { LineStart, Name, Claim, Keep, Drop, Body }

        /// <summary>Bytes of an Authentication-Results field held while its authserv-id is read.</summary>
        internal const int ClaimLimit = 1024;
        static readonly byte[] ResultsName = System.Text.Encoding.ASCII.GetBytes("authentication-results");

        readonly Stream _inner;
        readonly HeaderNameMatcher _matcher;
        Mode _mode = Mode.LineStart;
        bool _dropping;            // the current field is removed: so are its continuation lines
        byte[] _name = new byte[256];
        int _nameLength;
        // Reading an Authentication-Results value up to its authserv-id:
        readonly byte[] _authServId;
        int _claimDepth;           // inside a comment, nested
        bool _claimEscape;         // after '\' in a comment
        bool _claimLineEnded;      // a line ended before the id: a continuation line may follow
        int _claimStart;           // where the id starts in the held bytes; -1 before it

        /// <param name="authServId">Authentication-Results fields that claim it are removed; null: none are.</param>
        public HeaderFirewallStream(Stream inner, HeaderNameMatcher matcher, string authServId = null)
        {
            _inner = inner;
            _matcher = matcher;
            _authServId = authServId == null ? null : System.Text.Encoding.ASCII.GetBytes(authServId.ToLowerInvariant());
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
                            else if (_authServId != null && SameText(_name, 0, n, ResultsName))
                            {
                                Hold(c);
                                _claimDepth = 0;
                                _claimEscape = _claimLineEnded = false;
                                _claimStart = -1;
                                _mode = Mode.Claim;
                            }
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
                    case Mode.Claim:
                        if (_claimLineEnded && b[i] != ' ' && b[i] != '\t')
                        {
                            Decide(false, lineEnded: true);   // the field ended without an authserv-id
                            continue;
                        }
                        _claimLineEnded = false;
                        Claim(b[i++]);
                        continue;
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

        /// <summary>One byte of an Authentication-Results value before its authserv-id is known.</summary>
        void Claim(byte c)
        {
            Hold(c);
            if (_nameLength > ClaimLimit) { Decide(true, c == '\n'); return; }
            if (_claimDepth > 0)
            {
                if (_claimEscape) _claimEscape = false;
                else if (c == '\\') _claimEscape = true;
                else if (c == '(') _claimDepth++;
                else if (c == ')') _claimDepth--;
                else if (c == '\n') _claimLineEnded = true;
                return;
            }
            bool ends = c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';' || c == '(';
            if (!ends)
            {
                if (_claimStart < 0) _claimStart = _nameLength - 1;
                return;
            }
            if (_claimStart >= 0)
            {
                Decide(SameText(_name, _claimStart, _nameLength - 1 - _claimStart, _authServId), c == '\n');
                return;
            }
            if (c == '(') _claimDepth = 1;
            else if (c == '\n') _claimLineEnded = true;
            else if (c == ';') Decide(false, false);   // an empty authserv-id claims nothing
        }

        void Decide(bool remove, bool lineEnded)
        {
            _dropping = remove;
            if (remove) Removed++;
            else _inner.Write(_name, 0, _nameLength);
            _nameLength = 0;
            _mode = lineEnded ? Mode.LineStart : remove ? Mode.Drop : Mode.Keep;
        }

        /// <summary>ASCII text equal to <paramref name="lower"/> (lower case) without regard to case.</summary>
        static bool SameText(byte[] b, int offset, int count, byte[] lower)
        {
            if (count != lower.Length) return false;
            for (int i = 0; i < count; i++)
            {
                int c = b[offset + i];
                if (c >= 'A' && c <= 'Z') c += 32;
                if (c != lower[i]) return false;
            }
            return true;
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
            if ((_mode == Mode.Name || _mode == Mode.Claim) && _nameLength > 0) _inner.Write(_name, 0, _nameLength);
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
