using System;
using System.Globalization;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The mark that a message file in <c>incoming/</c> was complete when its writer synced it: a
    /// 64-bit hash of the message's bytes and their count, written into the header's <c>seal:</c>
    /// line (which holds zeros while the hash runs) just before the sync. A crash can leave the
    /// seal on disk without all the blocks it covers (a file's blocks reach the disk in no fixed
    /// order before the sync completes), so a seal counts only when the bytes still hash to it.
    /// </summary>
    /// <remarks>
    /// The count says where the message ends: a file written into a preallocated slot
    /// (<see cref="IncomingSlots"/>) is cut to that length after its sync, and a crash may undo
    /// the cut, leaving the slot's zeros after the message. Not a cryptographic hash: it only has
    /// to tell a complete file from a torn one, whose missing blocks read as zeros or as older
    /// bytes. Eight bytes at a time, so that 100 KiB costs tens of microseconds.
    /// </remarks>
    internal sealed class MessageSeal
    {
        /// <summary>The header line that carries the seal, placeholder included; it follows the
        /// envelope's first line. Its value: the hash in 16 hex digits, a space, and the message
        /// file's length in 12 decimal digits.</summary>
        public static readonly byte[] PlaceholderLine = System.Text.Encoding.ASCII.GetBytes("seal: 0000000000000000 000000000000\n");

        /// <summary>Where the seal's value starts in a header that has a seal line.</summary>
        public static readonly int Offset = EnvelopeSerializer.Header.Length + 1 + "seal: ".Length;

        /// <summary>The value's length: hash, space, length.</summary>
        public const int ValueLength = HashDigits + 1 + LengthDigits;

        const int HashDigits = 16;
        const int LengthDigits = 12;

        const ulong Prime1 = 0x9E3779B185EBCA87UL;
        const ulong Prime2 = 0xC2B2AE3D27D4EB4FUL;

        ulong _hash = 0x27D4EB2F165667C5UL;
        ulong _length;
        readonly byte[] _carry = new byte[8];
        int _carried;

        /// <summary>Adds <paramref name="count"/> bytes to the hash.</summary>
        public void Add(byte[] buffer, int offset, int count)
        {
            _length += (ulong)count;
            if (_carried > 0)
            {
                while (_carried < 8 && count > 0) { _carry[_carried++] = buffer[offset++]; count--; }
                if (_carried < 8) return;
                Mix(BitConverter.ToUInt64(_carry, 0));
                _carried = 0;
            }
            var end = offset + count - 7;
            for (; offset < end; offset += 8) Mix(BitConverter.ToUInt64(buffer, offset));
            count = end + 7 - offset;
            for (var i = 0; i < count; i++) _carry[_carried++] = buffer[offset + i];
        }

        public void Add(byte value)
        {
            _length++;
            _carry[_carried++] = value;
            if (_carried < 8) return;
            Mix(BitConverter.ToUInt64(_carry, 0));
            _carried = 0;
        }

        void Mix(ulong word)
        {
            word *= Prime2;
            word = (word << 31) | (word >> 33);
            _hash ^= word * Prime1;
            _hash = ((_hash << 27) | (_hash >> 37)) * Prime1 + Prime2;
        }

        /// <summary>The seal line's value for everything added: the hash, a space and the count,
        /// in ASCII.</summary>
        public byte[] Finish()
        {
            var length = _length;
            var hash = _hash;
            for (var i = 0; i < _carried; i++) hash = (hash ^ _carry[i]) * Prime1;
            hash ^= _length;
            hash ^= hash >> 33;
            hash *= Prime2;
            hash ^= hash >> 29;
            // Never all zeros: that is the placeholder, the mark of a file not sealed.
            if (hash == 0) hash = 1;
            return System.Text.Encoding.ASCII.GetBytes(
                hash.ToString("x16", CultureInfo.InvariantCulture) + " " + length.ToString("D" + LengthDigits, CultureInfo.InvariantCulture));
        }

        /// <summary>Whether <paramref name="value"/> has the shape of a seal line's value (sealed
        /// or the placeholder).</summary>
        public static bool IsWellFormed(string value)
        {
            if (value == null || value.Length != ValueLength || value[HashDigits] != ' ') return false;
            for (var i = 0; i < ValueLength; i++)
            {
                if (i == HashDigits) continue;
                var c = value[i];
                var digit = c >= '0' && c <= '9';
                if (!digit && (i > HashDigits || c < 'a' || c > 'f')) return false;
            }
            return true;
        }

        /// <summary>The file length a well-formed seal value states; 0 for the placeholder.</summary>
        public static long StatedLength(string value) =>
            long.Parse(value.Substring(HashDigits + 1), NumberStyles.None, CultureInfo.InvariantCulture);

        /// <summary>The file length stated by the seal of the message file <paramref name="stream"/>
        /// (read at its fixed place; the stream is left there); 0 when the file has no seal, or only
        /// the placeholder.</summary>
        /// <exception cref="IOException">Reading failed.</exception>
        public static long StatedLength(Stream stream)
        {
            var prefix = new byte[Prefix];
            stream.Position = 0;
            var filled = 0;
            int read;
            while (filled < prefix.Length && (read = stream.Read(prefix, filled, prefix.Length - filled)) > 0) filled += read;
            if (filled < prefix.Length) return 0;
            for (var at = 0; at < Offset; at++)
                if (prefix[at] != PrefixByte(at)) return 0;
            if (prefix[Prefix - 1] != (byte)'\n') return 0;
            var value = System.Text.Encoding.ASCII.GetString(prefix, Offset, ValueLength);
            return IsWellFormed(value) ? StatedLength(value) : 0;
        }

        /// <summary>
        /// Whether the file at <paramref name="stream"/>'s start is sealed and its first bytes, as
        /// many as the seal states, still hash to it (with the seal's value taken as the
        /// placeholder's); what follows them (a slot's zeros) does not count.
        /// </summary>
        /// <exception cref="IOException">Reading failed.</exception>
        public static bool Holds(Stream stream) => Holds(stream, out _);

        /// <summary><see cref="Holds(Stream)"/>, with the length the seal states (0 when it holds not).</summary>
        public static bool Holds(Stream stream, out long length)
        {
            length = 0;
            var stated = StatedLength(stream);
            if (stated < Prefix || stated > stream.Length) return false;
            stream.Position = 0;
            var buffer = new byte[64 * 1024];
            var seal = new MessageSeal();
            var value = new byte[ValueLength];
            long position = 0;
            while (position < stated)
            {
                var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, stated - position));
                if (read == 0) return false;
                for (var i = 0; i < read && position + i < Prefix; i++)
                {
                    var at = (int)(position + i);
                    if (at < Offset || at >= Offset + ValueLength) continue;
                    value[at - Offset] = buffer[i];
                    buffer[i] = PrefixByte(at);
                }
                seal.Add(buffer, 0, read);
                position += read;
            }
            var actual = seal.Finish();
            for (var i = 0; i < ValueLength; i++)
                if (actual[i] != value[i]) return false;
            length = stated;
            return true;
        }

        // The envelope's first line, then the seal line.
        static readonly int Prefix = EnvelopeSerializer.Header.Length + 1 + PlaceholderLine.Length;

        static byte PrefixByte(int at) =>
            at < EnvelopeSerializer.Header.Length ? (byte)EnvelopeSerializer.Header[at]
            : at == EnvelopeSerializer.Header.Length ? (byte)'\n'
            : PlaceholderLine[at - EnvelopeSerializer.Header.Length - 1];
    }
}
