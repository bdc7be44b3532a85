using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// Reads one JSON value (RFC 8259), such as a line of the proxy's log, into plain objects:
    /// an object becomes an ordered <see cref="Dictionary{TKey,TValue}"/> of string to object, an
    /// array a <see cref="List{T}"/> of object, a number a long when it is integral and a double
    /// otherwise, and strings, true, false and null what they are. A log line may be cut short or
    /// edited by hand: anything that is not JSON throws <see cref="FormatException"/> with the
    /// offset, and nesting is bounded so hostile input cannot exhaust the stack.
    /// </summary>
    public sealed class JsonReader
    {
        /// <summary>Deeper than the log ever writes; deep enough for any record a later schema adds.</summary>
        public const int MaxDepth = 32;

        readonly string _text;
        int _pos;

        JsonReader(string text) { _text = text; }

        /// <summary>The value <paramref name="text"/> holds; nothing but white space may follow it.</summary>
        public static object Parse(string text)
        {
            if (text == null) throw new ArgumentNullException(nameof(text));
            var reader = new JsonReader(text);
            var value = reader.Value(0);
            reader.SkipSpace();
            if (reader._pos != text.Length) throw reader.Error("text after the value");
            return value;
        }

        object Value(int depth)
        {
            if (depth > MaxDepth) throw Error("nested deeper than " + MaxDepth);
            SkipSpace();
            if (_pos >= _text.Length) throw Error("the text ends where a value was expected");
            switch (_text[_pos])
            {
                case '{': return Object(depth);
                case '[': return Array(depth);
                case '"': return String();
                case 't': return Word("true", true);
                case 'f': return Word("false", false);
                case 'n': return Word("null", null);
                default: return Number();
            }
        }

        Dictionary<string, object> Object(int depth)
        {
            var result = new Dictionary<string, object>(StringComparer.Ordinal);
            _pos++;
            SkipSpace();
            if (Take('}')) return result;
            do
            {
                SkipSpace();
                if (_pos >= _text.Length || _text[_pos] != '"') throw Error("a member name was expected");
                var name = String();
                SkipSpace();
                if (!Take(':')) throw Error("':' was expected");
                result[name] = Value(depth + 1);   // a repeated name keeps its last value, as most readers do
                SkipSpace();
            } while (Take(','));
            if (!Take('}')) throw Error("',' or '}' was expected");
            return result;
        }

        List<object> Array(int depth)
        {
            var result = new List<object>();
            _pos++;
            SkipSpace();
            if (Take(']')) return result;
            do
            {
                result.Add(Value(depth + 1));
                SkipSpace();
            } while (Take(','));
            if (!Take(']')) throw Error("',' or ']' was expected");
            return result;
        }

        string String()
        {
            _pos++;   // the opening quote
            // Most strings of a log have no escape: one copy, no builder.
            for (int i = _pos; i < _text.Length; i++)
            {
                var c = _text[i];
                if (c == '"')
                {
                    var plain = _text.Substring(_pos, i - _pos);
                    _pos = i + 1;
                    return plain;
                }
                if (c == '\\' || c < 0x20) break;
            }
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _text.Length) throw Error("the text ends inside a string");
                var c = _text[_pos++];
                if (c == '"') return sb.ToString();
                if (c < 0x20) throw Error("a control character inside a string");
                if (c != '\\') { sb.Append(c); continue; }
                if (_pos >= _text.Length) throw Error("the text ends inside an escape");
                var e = _text[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _text.Length
                            || !int.TryParse(_text.Substring(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                            throw Error("a \\u escape needs four hex digits");
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default: throw Error("an unknown escape \\" + e);
                }
            }
        }

        object Number()
        {
            int start = _pos;
            if (Peek('-')) _pos++;
            int digits = _pos;
            while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
            if (_pos == digits) throw Error("a value was expected");
            bool integral = true;
            if (Peek('.')) { integral = false; _pos++; SkipDigits(); }
            if (Peek('e') || Peek('E'))
            {
                integral = false;
                _pos++;
                if (Peek('+') || Peek('-')) _pos++;
                SkipDigits();
            }
            var text = _text.Substring(start, _pos - start);
            if (integral && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l;
            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return d;
            throw Error("'" + text + "' is not a number");
        }

        void SkipDigits()
        {
            int start = _pos;
            while (_pos < _text.Length && IsDigit(_text[_pos])) _pos++;
            if (_pos == start) throw Error("a digit was expected");
        }

        object Word(string word, object value)
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) != 0) throw Error("a value was expected");
            _pos += word.Length;
            return value;
        }

        void SkipSpace()
        {
            while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t' || _text[_pos] == '\n' || _text[_pos] == '\r')) _pos++;
        }

        // ASCII digits only: char.IsDigit would take other scripts' digits.
        static bool IsDigit(char c) => c >= '0' && c <= '9';

        bool Peek(char c) => _pos < _text.Length && _text[_pos] == c;

        bool Take(char c)
        {
            if (!Peek(c)) return false;
            _pos++;
            return true;
        }

        FormatException Error(string what) => new FormatException("Not JSON at offset " + _pos + ": " + what + ".");
    }
}
