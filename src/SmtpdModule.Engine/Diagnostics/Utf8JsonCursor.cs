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
    internal sealed class Utf8JsonCursor
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

        /// <summary>A string in the exact round-trip form of a UTC time ("o", as the log writes it),
        /// read without a parser; otherwise DateTimeOffset.Parse, as the reference reader does. Null is default.</summary>
        public DateTimeOffset TimeOrDefault()
        {
            var c = Peek();
            if (c == 'n') { Word(Null); return default; }
            if (c != '"') throw Decline();
            // "2026-11-30T00:00:00.4600000Z"
            int p = _pos + 1;
            if (p + 29 <= _end && _b[p + 28] == '"' && _b[p + 4] == '-' && _b[p + 7] == '-' && _b[p + 10] == 'T' && _b[p + 13] == ':'
                && _b[p + 16] == ':' && _b[p + 19] == '.' && _b[p + 27] == 'Z')
            {
                int year = Digits(p, 4), month = Digits(p + 5, 2), day = Digits(p + 8, 2), hour = Digits(p + 11, 2),
                    minute = Digits(p + 14, 2), second = Digits(p + 17, 2), fraction = Digits(p + 20, 7);
                if (year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= DateTime.DaysInMonth(year, month)
                    && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && second >= 0 && second < 60 && fraction >= 0)
                {
                    _pos = p + 29;
                    var ticks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Utc).Ticks + fraction;
                    return new DateTimeOffset(ticks, TimeSpan.Zero);
                }
            }
            return DateTimeOffset.Parse(String(false), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        }

        /// <summary>The number that <paramref name="count"/> ASCII digits make; -1 when one is not a digit.</summary>
        int Digits(int start, int count)
        {
            int value = 0;
            for (int i = start; i < start + count; i++)
            {
                int d = _b[i] - '0';
                if ((uint)d > 9) return -1;
                value = value * 10 + d;
            }
            return value;
        }

        /// <summary>A number as the reference reader's callers see it (a long or a double, as a double), or null for JSON null.</summary>
        public double? NumberOrNull()
        {
            var c = Peek();
            if (c == 'n') { Word(Null); return null; }
            if (c == '-' || (c >= '0' && c <= '9')) return Number();
            throw Decline();
        }

        double Number()
        {
            int start = _pos;
            bool negative = _b[_pos] == '-';
            if (negative) _pos++;
            int digits = _pos;
            long value = 0;
            while (_pos < _end && _b[_pos] >= '0' && _b[_pos] <= '9') value = value * 10 + (_b[_pos++] - '0');
            int count = _pos - digits;
            if (count == 0) throw Decline();
            bool integral = true;
            if (_pos < _end && _b[_pos] == '.') { integral = false; _pos++; SkipDigits(); }
            if (_pos < _end && (_b[_pos] == 'e' || _b[_pos] == 'E'))
            {
                integral = false;
                _pos++;
                if (_pos < _end && (_b[_pos] == '+' || _b[_pos] == '-')) _pos++;
                SkipDigits();
            }
            if (integral && count <= 18) return negative ? -value : value;
            // As JsonReader reads it: a long when it fits, else a double.
            var text = Encoding.ASCII.GetString(_b, start, _pos - start);
            if (integral && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            throw Decline();
        }

        void SkipDigits()
        {
            int start = _pos;
            while (_pos < _end && _b[_pos] >= '0' && _b[_pos] <= '9') _pos++;
            if (_pos == start) throw Decline();
        }

        /// <summary>JSON true or false; any other value is read past and is false, as the reference reader's flags are.</summary>
        public bool Flag(int depth)
        {
            var c = Peek();
            if (c == 't') { Word(True); return true; }
            if (c == 'f') { Word(False); return false; }
            Skip(depth);
            return false;
        }

        static readonly byte[] Null = { (byte)'n', (byte)'u', (byte)'l', (byte)'l' };
        static readonly byte[] True = { (byte)'t', (byte)'r', (byte)'u', (byte)'e' };
        static readonly byte[] False = { (byte)'f', (byte)'a', (byte)'l', (byte)'s', (byte)'e' };

        void Word(byte[] word)
        {
            if (_pos + word.Length > _end) throw Decline();
            for (int i = 0; i < word.Length; i++)
                if (_b[_pos + i] != word[i]) throw Decline();
            _pos += word.Length;
        }

        /// <summary>Reads past one value at <paramref name="depth"/> (the top object's members are at 1),
        /// checking it as JsonReader would and decoding nothing.</summary>
        public void Skip(int depth)
        {
            if (depth > JsonReader.MaxDepth) throw Decline();
            switch (Peek())
            {
                case (byte)'{':
                    if (!BeginObject()) return;
                    do
                    {
                        if (Peek() != '"') throw Decline();
                        SkipString();
                        Take((byte)':');
                        Skip(depth + 1);
                    } while (NextMember());
                    return;
                case (byte)'[':
                    if (!BeginArray()) return;
                    do Skip(depth + 1); while (NextItem());
                    return;
                case (byte)'"': SkipString(); return;
                case (byte)'t': Word(True); return;
                case (byte)'f': Word(False); return;
                case (byte)'n': Word(Null); return;
                case 0: throw Decline();
                default: Number(); return;
            }
        }

        void SkipString()
        {
            int p = _pos + 1;
            while (true)
            {
                p = PlainRunEnd(p);
                if (p >= _end) throw Decline();
                var c = _b[p++];
                if (c == '"') break;
                if (c == '\\') { _pos = p; Escape(); p = _pos; }
                else if (c < 0x20) throw Decline();
                // else a byte past ASCII: JsonReader takes whatever it decodes to
            }
            _pos = p;
        }
    }
}
