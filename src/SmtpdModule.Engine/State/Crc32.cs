namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// CRC-32 as in zlib, PNG and Ethernet (reflected polynomial 0xEDB88320, initial and final
    /// XOR 0xFFFFFFFF; the check value of "123456789" is 0xCBF43926). Table-driven, a byte at a
    /// time: the journal checksums records of a few hundred bytes, and System.IO.Hashing would
    /// be one more dependency to ship beside PowerShell.
    /// </summary>
    internal static class Crc32
    {
        static readonly uint[] Table = MakeTable();

        static uint[] MakeTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                uint c = n;
                for (int k = 0; k < 8; k++)
                    c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }

        /// <summary>The CRC of <paramref name="crc"/>'s bytes followed by these; start with 0. As
        /// zlib's crc32(), so a checksum over two separate spans is two calls.</summary>
        public static uint Compute(uint crc, byte[] buffer, int offset, int count)
        {
            uint c = ~crc;
            for (int i = offset, end = offset + count; i < end; i++)
                c = Table[(c ^ buffer[i]) & 0xFF] ^ (c >> 8);
            return ~c;
        }
    }
}
