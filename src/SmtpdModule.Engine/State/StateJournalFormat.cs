using System;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The bytes of <see cref="FileStateStore"/>'s journal. A file is an 8-byte header
    /// (<c>SMTPDSJ1</c>: the name and the format's version) followed by records; each record is
    /// <c>length:u32 crc:u32 payload[length]</c>, little-endian, the CRC-32 taken over the length's
    /// four bytes and the payload, so a damaged length is caught as surely as a damaged value.
    /// Payloads: <c>1 expiresAt:i64 keyLength:u16 key value</c> (the key now holds the value until
    /// that UTC tick, <see cref="StateTable.Never"/> for no expiry) or <c>2 key</c> (the key is
    /// gone); keys and values are UTF-8.
    /// </summary>
    /// <remarks>
    /// Records hold results, not commands: an increment is journaled as the value it produced
    /// with the expiry the key has, so a replay needs neither the clock of the write nor the
    /// order of racing callers, only the order of the file.
    /// </remarks>
    internal static class StateJournalFormat
    {
        public static readonly byte[] Header = Encoding.ASCII.GetBytes("SMTPDSJ1");

        public const byte Put = 1;
        public const byte Remove = 2;

        /// <summary>Length and CRC before each payload.</summary>
        public const int RecordHeaderSize = 8;

        const int PutFixed = 1 + 8 + 2;

        /// <summary>The largest payload a valid record has; a length above it is damage.</summary>
        public const int MaxPayload = PutFixed + FileStateStore.MaxKeyBytes + FileStateStore.MaxValueBytes;

        /// <summary>Strict: a string with a lone surrogate has no UTF-8 form, and replacing it with
        /// U+FFFD would store a different key than the caller gave.</summary>
        public static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, true);

        /// <summary>The bytes a put of this entry takes in the journal, for the live-size account.</summary>
        public static long PutSize(string key, string value) =>
            RecordHeaderSize + PutFixed + Utf8.GetByteCount(key) + Utf8.GetByteCount(value);
    }

    /// <summary>Records encoded one after another into a reusable buffer, ready for one write.</summary>
    internal sealed class StateRecordBuffer
    {
        byte[] _bytes = new byte[256];

        public int Count { get; private set; }
        public byte[] Bytes => _bytes;

        public void Clear() => Count = 0;

        public byte[] ToArray()
        {
            var copy = new byte[Count];
            Buffer.BlockCopy(_bytes, 0, copy, 0, Count);
            return copy;
        }

        /// <summary>Appends a put record; the key and value were checked for size and encoding.</summary>
        public void AppendPut(string key, string value, long expiresAt)
        {
            var utf8 = StateJournalFormat.Utf8;
            int keyBytes = utf8.GetByteCount(key), valueBytes = utf8.GetByteCount(value);
            int start = Begin(1 + 8 + 2 + keyBytes + valueBytes);
            int at = start + StateJournalFormat.RecordHeaderSize;
            _bytes[at++] = StateJournalFormat.Put;
            WriteInt64(_bytes, at, expiresAt); at += 8;
            _bytes[at++] = (byte)keyBytes;
            _bytes[at++] = (byte)(keyBytes >> 8);
            at += utf8.GetBytes(key, 0, key.Length, _bytes, at);
            utf8.GetBytes(value, 0, value.Length, _bytes, at);
            End(start);
        }

        public void AppendRemove(string key)
        {
            var utf8 = StateJournalFormat.Utf8;
            int keyBytes = utf8.GetByteCount(key);
            int start = Begin(1 + keyBytes);
            int at = start + StateJournalFormat.RecordHeaderSize;
            _bytes[at++] = StateJournalFormat.Remove;
            utf8.GetBytes(key, 0, key.Length, _bytes, at);
            End(start);
        }

        int Begin(int payload)
        {
            int start = Count, need = start + StateJournalFormat.RecordHeaderSize + payload;
            if (need > _bytes.Length) Array.Resize(ref _bytes, Math.Max(need, _bytes.Length * 2));
            WriteUInt32(_bytes, start, (uint)payload);
            Count = need;
            return start;
        }

        void End(int start)
        {
            int payload = Count - start - StateJournalFormat.RecordHeaderSize;
            // The CRC covers the length (bytes start..start+3), skips itself, then the payload.
            uint crc = StateJournalReader.Checksum(_bytes, start, payload);
            WriteUInt32(_bytes, start + 4, crc);
        }

        internal static void WriteUInt32(byte[] b, int at, uint v)
        {
            b[at] = (byte)v; b[at + 1] = (byte)(v >> 8); b[at + 2] = (byte)(v >> 16); b[at + 3] = (byte)(v >> 24);
        }

        static void WriteInt64(byte[] b, int at, long v)
        {
            WriteUInt32(b, at, (uint)v);
            WriteUInt32(b, at + 4, (uint)((ulong)v >> 32));
        }
    }
}
