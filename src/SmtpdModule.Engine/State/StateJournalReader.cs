using System;
using System.IO;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// Replays a journal up to its first torn or damaged record and says where that was. Nothing
    /// past that point is trusted: once one record's length is in doubt, the next record's start is
    /// too, and a guess could read a value's bytes as a record.
    /// </summary>
    internal static class StateJournalReader
    {
        /// <summary>The checksum stored with a record that starts at <paramref name="start"/>: the
        /// four length bytes, then the payload after the checksum's own four.</summary>
        public static uint Checksum(byte[] record, int start, int payload)
        {
            uint crc = Crc32.Compute(0, record, start, 4);
            return Crc32.Compute(crc, record, start + StateJournalFormat.RecordHeaderSize, payload);
        }

        /// <summary>Reads records from <paramref name="file"/>, positioned just after the header.</summary>
        /// <param name="file">The journal, read from its position to its end.</param>
        /// <param name="path">The journal's path, for the report.</param>
        /// <param name="put">Called for each put: key, value, expiry.</param>
        /// <param name="remove">Called for each removal.</param>
        /// <returns>Where the valid part ends and why reading stopped.</returns>
        /// <exception cref="IOException">The file could not be read.</exception>
        public static StateJournalRecovery Replay(Stream file, string path, Action<string, string, long> put, Action<string> remove)
        {
            var buffer = new byte[StateJournalFormat.RecordHeaderSize + StateJournalFormat.MaxPayload];
            long valid = file.Position, total = file.Length;
            int records = 0;
            var damage = StateJournalDamage.None;
            while (true)
            {
                int got = ReadFully(file, buffer, 0, StateJournalFormat.RecordHeaderSize);
                if (got == 0) break;
                if (got < StateJournalFormat.RecordHeaderSize) { damage = StateJournalDamage.TornTail; break; }
                uint length = ReadUInt32(buffer, 0);
                if (length == 0 || length > StateJournalFormat.MaxPayload)
                {
                    // A length no writer produces. If it runs past the end, it is the ragged end
                    // of a write cut short; so are zeros to the end (after a power loss some file
                    // systems show a grown file whose last blocks were never written). Anything
                    // else was damaged in place.
                    bool torn = valid + StateJournalFormat.RecordHeaderSize + length > total
                        || (length == 0 && ZerosToEnd(file, buffer));
                    damage = torn ? StateJournalDamage.TornTail : StateJournalDamage.Corrupt;
                    break;
                }
                got = ReadFully(file, buffer, StateJournalFormat.RecordHeaderSize, (int)length);
                if (got < length) { damage = StateJournalDamage.TornTail; break; }
                uint stored = ReadUInt32(buffer, 4);
                if (stored != Checksum(buffer, 0, (int)length) || !Apply(buffer, (int)length, put, remove))
                {
                    damage = StateJournalDamage.Corrupt;
                    break;
                }
                valid += StateJournalFormat.RecordHeaderSize + length;
                records++;
            }
            return new StateJournalRecovery(path, damage, valid, total - valid, records);
        }

        // False when a record that passed its checksum still does not parse: written by a
        // different program, or a checksum collision. Either way, not something to apply.
        static bool Apply(byte[] b, int length, Action<string, string, long> put, Action<string> remove)
        {
            const int at = StateJournalFormat.RecordHeaderSize;
            try
            {
                switch (b[at])
                {
                    case StateJournalFormat.Put:
                        if (length < 11) return false;
                        long expiresAt = (long)((ulong)ReadUInt32(b, at + 1) | (ulong)ReadUInt32(b, at + 5) << 32);
                        int keyLength = b[at + 9] | b[at + 10] << 8;
                        int valueLength = length - 11 - keyLength;
                        if (keyLength > FileStateStore.MaxKeyBytes || valueLength < 0 || valueLength > FileStateStore.MaxValueBytes) return false;
                        var key = StateJournalFormat.Utf8.GetString(b, at + 11, keyLength);
                        var value = StateJournalFormat.Utf8.GetString(b, at + 11 + keyLength, valueLength);
                        put(key, value, expiresAt);
                        return true;
                    case StateJournalFormat.Remove:
                        if (length - 1 > FileStateStore.MaxKeyBytes) return false;
                        remove(StateJournalFormat.Utf8.GetString(b, at + 1, length - 1));
                        return true;
                    default:
                        return false;
                }
            }
            catch (ArgumentException)   // DecoderFallbackException: not UTF-8
            {
                return false;
            }
        }

        static uint ReadUInt32(byte[] b, int at) => (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24);

        // After a zero length field: true when the checksum field and every later byte are zero too.
        static bool ZerosToEnd(Stream s, byte[] buffer)
        {
            for (int i = 4; i < StateJournalFormat.RecordHeaderSize; i++)
                if (buffer[i] != 0) return false;
            int n;
            while ((n = s.Read(buffer, 0, buffer.Length)) > 0)
                for (int i = 0; i < n; i++)
                    if (buffer[i] != 0) return false;
            return true;
        }

        static int ReadFully(Stream s, byte[] buffer, int offset, int count)
        {
            int total = 0;
            while (total < count)
            {
                int n = s.Read(buffer, offset + total, count - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }
    }
}
