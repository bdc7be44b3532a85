using System.Threading;

namespace SmtpdModule.Engine.Net
{
    /// <summary>
    /// One shared scratch buffer for names built a character at a time (reverse and DNSBL names, rate
    /// limit networks), so each costs one string. Taken and given back with one exchange each; a
    /// caller that finds it taken makes its own. No thread-static: its slow lookup cost more than the
    /// allocation it saved.
    /// </summary>
    internal static class CharBuffer
    {
        const int Size = 128;
        static char[] s_buffer;

        /// <summary>A buffer of at least <paramref name="length"/> characters; give it back with <see cref="ToStringAndReturn"/>.</summary>
        public static char[] Rent(int length)
        {
            if (length > Size) return new char[length];
            return Interlocked.Exchange(ref s_buffer, null) ?? new char[Size];
        }

        /// <summary>The text written, and the buffer back for the next caller.</summary>
        public static string ToStringAndReturn(char[] buffer, int length)
        {
            var text = new string(buffer, 0, length);
            if (buffer.Length == Size) Volatile.Write(ref s_buffer, buffer);
            return text;
        }
    }
}
