using System;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Diagnostics
{
    // The cursor's readers of values other than strings: times, numbers, flags, and the skipping of a
    // value nobody asked for. Same rules as the rest of Utf8JsonCursor: decline what JsonReader might read otherwise.
    internal sealed partial class Utf8JsonCursor
    {
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
