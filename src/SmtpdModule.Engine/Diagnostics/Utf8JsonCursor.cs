using System;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// A forward-only reader of one JSON text held as UTF-8 bytes, for hot paths that want a few
    /// values without building a tree. It follows <see cref="JsonReader"/>'s grammar (its quirks
    /// included: leading zeros, <see cref="JsonReader.MaxDepth"/>) and gives the values JsonReader
    /// would: invalid UTF-8 inside a string becomes U+FFFD as the log's decoder makes it, a \u escape
    /// is one UTF-16 unit, surrogate halves included. Whatever it is not sure of, and every error,
    /// throws <see cref="Declined"/>: the caller then hands the text to JsonReader, whose answer or
    /// error is the reference. So this reader never accepts what JsonReader refuses.
    /// </summary>
    internal sealed partial class Utf8JsonCursor
    {
        /// <summary>The fast path gives up on this text; JsonReader decides.</summary>
        internal sealed class Declined : Exception { }

        readonly Utf8StringCache _cache;
        char[] _chars = new char[256];
        byte[] _b;
        int _pos;
        int _end;

        public Utf8JsonCursor(Utf8StringCache cache) { _cache = cache; }

        public void Reset(byte[] bytes, int start, int length)
        {
            _b = bytes;
            _pos = start;
            _end = start + length;
        }

        public static Exception Decline() => new Declined();

        /// <summary>Nothing but white space is left.</summary>
        public bool AtEnd { get { SkipSpace(); return _pos == _end; } }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void SkipSpace()
        {
            // The log writes no white space between tokens.
            if (_pos < _end && _b[_pos] > ' ') return;
            SkipSomeSpace();
        }

        void SkipSomeSpace()
        {
            var b = _b;
            int p = _pos;
            while (p < _end)
            {
                var c = b[p];
                if (c > ' ' || (c != ' ' && c != '\t' && c != '\n' && c != '\r')) break;
                p++;
            }
            _pos = p;
        }

        /// <summary>The index of the first byte at or after <paramref name="p"/> that ends a plain ASCII
        /// run inside a string: a quote, a backslash, a control character or a byte past ASCII; _end when none.</summary>
        int PlainRunEnd(int p)
        {
            var b = _b;
            int end = _end;
            // Eight bytes at a time (SWAR): a byte below 0x20, at or past 0x80, '"' or '\\' stops the run.
            // The lowest flagged byte is exact: a borrow only runs upwards from a flagged byte.
            while (p + 8 <= end)
            {
                ulong x = BitConverter.ToUInt64(b, p);
                ulong q = x ^ 0x2222222222222222UL, s = x ^ 0x5C5C5C5C5C5C5C5CUL;
                ulong stop = (((x - 0x2020202020202020UL) & ~x) | ((q - 0x0101010101010101UL) & ~q) | ((s - 0x0101010101010101UL) & ~s) | x) & 0x8080808080808080UL;
                if (stop != 0)
                {
                    if (!BitConverter.IsLittleEndian) break;
                    // The lowest flag's byte: y holds 0x01 in that byte alone, and multiplying lifts its index to the top byte.
                    ulong y = (stop & (~stop + 1)) >> 7;
                    return p + (int)((y * 0x0001020304050607UL) >> 56);
                }
                p += 8;
            }
            while (p < end)
            {
                var c = b[p];
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
                p++;
            }
            return end;
        }

        /// <summary>The next byte that is not white space; 0 at the end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte Peek()
        {
            SkipSpace();
            return _pos < _end ? _b[_pos] : (byte)0;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        bool TryTake(byte c)
        {
            if (Peek() != c) return false;
            _pos++;
            return true;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Take(byte c)
        {
            if (!TryTake(c)) throw Decline();
        }

        /// <summary>Opens an object; false when it is empty (and so already closed).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool BeginObject()
        {
            Take((byte)'{');
            return !TryTake((byte)'}');
        }

        /// <summary>After a member's value: true when another member follows, false at the object's end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool NextMember()
        {
            if (TryTake((byte)',')) return true;
            Take((byte)'}');
            return false;
        }

        /// <summary>Opens an array; false when it is empty (and so already closed).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool BeginArray()
        {
            Take((byte)'[');
            return !TryTake((byte)']');
        }

        /// <summary>After an item: true when another follows, false at the array's end.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool NextItem()
        {
            if (TryTake((byte)',')) return true;
            Take((byte)']');
            return false;
        }

        /// <summary>A member name's bytes as written, and the ':' after it. A name with an escape is
        /// declined: the known names have none, and only JsonReader knows what it would equal.</summary>
        public int Name(out int start)
        {
            Take((byte)'"');
            start = _pos;
            while (true)
            {
                if (_pos >= _end) throw Decline();
                var c = _b[_pos];
                if (c == '"') break;
                if (c == '\\' || c < 0x20) throw Decline();
                _pos++;
            }
            int length = _pos - start;
            _pos++;
            Take((byte)':');
            return length;
        }

        /// <summary>Takes <paramref name="quotedName"/> (a member name in quotes and the ':' after it)
        /// when it is exactly what follows: the usual case, for the log writes its names in one order.</summary>
        public bool TryName(byte[] quotedName)
        {
            int n = quotedName.Length;
            if (_pos + n > _end) return false;
            var b = _b;
            int p = _pos;
            for (int i = 0; i < n; i++)
                if (b[p + i] != quotedName[i]) return false;
            _pos = p + n;
            return true;
        }

        /// <summary>Whether the name at <paramref name="start"/> is <paramref name="name"/>.</summary>
        public bool NameIs(int start, int length, byte[] name)
        {
            if (length != name.Length) return false;
            for (int i = 0; i < length; i++)
                if (_b[start + i] != name[i]) return false;
            return true;
        }

        /// <summary>A member name that is data (any string), and the ':' after it.</summary>
        public string DataName()
        {
            if (Peek() != '"') throw Decline();
            var name = String(true);
            Take((byte)':');
            return name;
        }

        /// <summary>A string, or null for JSON null; anything else is declined.</summary>
        /// <param name="intern">Take the string from the cache: for values that repeat from line to line.</param>
        public string StringOrNull(bool intern)
        {
            var c = Peek();
            if (c == '"') return String(intern);
            if (c == 'n') { Word(Null); return null; }
            throw Decline();
        }

        string String(bool intern)
        {
            int start = _pos + 1;   // past the opening quote
            int p = PlainRunEnd(start);
            if (p >= _end) throw Decline();
            var c = _b[p];
            if (c != '"')
            {
                if (c < 0x20) throw Decline();
                return EscapedString(start);
            }
            _pos = p + 1;
            int length = p - start;
            return intern ? _cache.Get(_b, start, length) : length == 0 ? string.Empty : Encoding.ASCII.GetString(_b, start, length);
        }

        /// <summary>A string with escapes or bytes past ASCII, decoded from its first byte at <paramref name="start"/>.</summary>
        string EscapedString(int start)
        {
            int n = 0;
            int run = start;
            _pos = start;
            while (true)
            {
                if (_pos >= _end) throw Decline();
                var c = _b[_pos];
                if (c == '"' || c == '\\')
                {
                    // A run between escapes ends at ASCII, so decoding it alone replaces exactly what
                    // decoding the whole line would.
                    if (_pos > run)
                    {
                        Reserve(n + _pos - run);
                        n += Encoding.UTF8.GetChars(_b, run, _pos - run, _chars, n);
                    }
                    _pos++;
                    if (c == '"') return new string(_chars, 0, n);
                    Reserve(n + 1);
                    _chars[n++] = Escape();
                    run = _pos;
                    continue;
                }
                if (c < 0x20) throw Decline();
                _pos++;
            }
        }

        char Escape()
        {
            if (_pos >= _end) throw Decline();
            switch (_b[_pos++])
            {
                case (byte)'"': return '"';
                case (byte)'\\': return '\\';
                case (byte)'/': return '/';
                case (byte)'b': return '\b';
                case (byte)'f': return '\f';
                case (byte)'n': return '\n';
                case (byte)'r': return '\r';
                case (byte)'t': return '\t';
                case (byte)'u':
                    if (_pos + 4 > _end) throw Decline();
                    int code = 0;
                    for (int i = 0; i < 4; i++) code = code << 4 | Hex(_b[_pos++]);
                    return (char)code;
                default: throw Decline();
            }
        }

        static int Hex(byte c)
        {
            if (c >= '0' && c <= '9') return c - '0';
            if (c >= 'a' && c <= 'f') return c - 'a' + 10;
            if (c >= 'A' && c <= 'F') return c - 'A' + 10;
            throw Decline();
        }

        void Reserve(int chars)
        {
            if (chars > _chars.Length) Array.Resize(ref _chars, Math.Max(chars, _chars.Length * 2));
        }
    }
}
