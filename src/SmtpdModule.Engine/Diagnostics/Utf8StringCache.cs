using System;
using System.Text;

namespace SmtpdModule.Engine.Diagnostics
{
    /// <summary>
    /// Strings made from short ASCII byte runs, kept so a run seen again gives the same string
    /// without an allocation: a decision log repeats its stages, verdicts, replies, rule lines, the
    /// rules' hash and most fact kinds and statuses on every line. Direct-mapped: a new run takes
    /// its slot from whatever held it, so the cache stays small whatever the log holds. One reader
    /// owns it (not thread-safe).
    /// </summary>
    internal sealed class Utf8StringCache
    {
        const int Slots = 1024;   // a power of two
        /// <summary>Longer runs are made each time: long values seldom repeat, and the rules' SHA-256 (64 hex digits) still fits.</summary>
        public const int MaxBytes = 96;

        readonly byte[] _keys = new byte[Slots * MaxBytes];
        readonly int[] _lengths = new int[Slots];
        readonly string[] _values = new string[Slots];

        bool Same(byte[] bytes, int start, int at, int length)
        {
            if (length > 16) return new ReadOnlySpan<byte>(_keys, at, length).SequenceEqual(new ReadOnlySpan<byte>(bytes, start, length));
            var keys = _keys;
            for (int i = 0; i < length; i++)
                if (keys[at + i] != bytes[start + i]) return false;
            return true;
        }

        /// <summary>The string of <paramref name="length"/> ASCII bytes (the caller has checked) at <paramref name="start"/>.</summary>
        public string Get(byte[] bytes, int start, int length)
        {
            if (length == 0) return string.Empty;
            if (length > MaxBytes) return Encoding.ASCII.GetString(bytes, start, length);
            uint h = 2166136261u ^ (uint)length;
            int i = 0;
            for (; i + 4 <= length; i += 4) h = (h ^ BitConverter.ToUInt32(bytes, start + i)) * 16777619u;
            for (; i < length; i++) h = (h ^ bytes[start + i]) * 16777619u;
            int slot = (int)((h ^ (h >> 15)) & (Slots - 1));
            var value = _values[slot];
            if (value != null && _lengths[slot] == length && Same(bytes, start, slot * MaxBytes, length)) return value;
            value = Encoding.ASCII.GetString(bytes, start, length);
            Buffer.BlockCopy(bytes, start, _keys, slot * MaxBytes, length);
            _lengths[slot] = length;
            _values[slot] = value;
            return value;
        }
    }
}
