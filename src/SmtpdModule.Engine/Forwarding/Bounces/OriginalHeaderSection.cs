using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Forwarding.Bounces
{
    /// <summary>
    /// The header section of the message being returned, as the third part of a bounce shows it
    /// (RFC 6522 text/rfc822-headers, RFC 6532 message/global-headers). The bytes come from a
    /// client we do not trust, so reading is bounded and what is kept is made safe to send on:
    /// every line ends in CRLF, is at most 998 octets (RFC 5322 §2.1.1), and holds no NUL, bare CR
    /// or other control character but TAB.
    /// </summary>
    internal sealed class OriginalHeaderSection
    {
        /// <summary>RFC 5322 §2.1.1: a line is at most 998 octets before its CRLF.</summary>
        internal const int MaxLineOctets = 998;

        OriginalHeaderSection(byte[] bytes, bool truncated, bool hasEightBit)
        {
            Bytes = bytes;
            Truncated = truncated;
            HasEightBit = hasEightBit;
        }

        /// <summary>The cleaned lines, each ending in CRLF; empty when the message had no header.</summary>
        public byte[] Bytes { get; }

        /// <summary>The reading limit cut the header section short, or a line was shortened.</summary>
        public bool Truncated { get; }

        /// <summary>Some octet is above 127.</summary>
        public bool HasEightBit { get; }

        /// <summary>Reads from <paramref name="message"/> up to the empty line that ends the header
        /// section, the end of the stream, or <paramref name="limit"/> octets, whichever is first, and
        /// cleans what it read. The stream's position afterwards is unspecified.</summary>
        /// <param name="message">The message bytes from their first octet.</param>
        /// <param name="limit">The most octets read.</param>
        /// <param name="utf8">Decode the lines as UTF-8 and replace malformed sequences with U+FFFD,
        /// as a message/global-headers part needs; otherwise octets above 127 are kept as they are.</param>
        /// <param name="cancellationToken">Stops the read.</param>
        public static async Task<OriginalHeaderSection> ReadAsync(Stream message, int limit, bool utf8, CancellationToken cancellationToken)
        {
            var buffer = new byte[limit];
            var length = 0;
            var end = -1;              // index of the empty line, once found
            var lineStart = 0;         // where the line being scanned began
            var atLineStart = true;
            var crAtLineStart = false;
            while (end < 0 && length < limit)
            {
                var read = await message.ReadAsync(buffer, length, Math.Min(8192, limit - length), cancellationToken).ConfigureAwait(false);
                if (read == 0) break;
                for (var i = length; i < length + read && end < 0; i++)
                {
                    var b = buffer[i];
                    if (b == (byte)'\n')
                    {
                        // An empty line, LF or CRLF alone, ends the header section (RFC 5322 §2.1).
                        if (atLineStart) end = lineStart;
                        atLineStart = true;
                        crAtLineStart = false;
                        lineStart = i + 1;
                    }
                    else if (b == (byte)'\r' && atLineStart && !crAtLineStart)
                    {
                        crAtLineStart = true;
                    }
                    else
                    {
                        atLineStart = false;
                        crAtLineStart = false;
                    }
                }
                length += read;
            }

            bool truncated;
            int keep;
            if (end >= 0)
            {
                keep = end;
                truncated = false;
            }
            else if (length < limit)
            {
                keep = length;         // the stream ended: a message with no body
                truncated = false;
            }
            else
            {
                // The limit fell inside the header section. The line it cut is kept, shortened
                // like any long line: its start is what tells the sender what went wrong.
                keep = length;
                truncated = true;
            }
            return Clean(buffer, keep, utf8, truncated);
        }

        static OriginalHeaderSection Clean(byte[] buffer, int length, bool utf8, bool truncated)
        {
            var output = new MemoryStream(length + 64);
            var eightBit = false;
            var start = 0;
            while (start < length)
            {
                var newline = Array.IndexOf(buffer, (byte)'\n', start, length - start);
                var stop = newline < 0 ? length : newline;
                var line = new byte[stop - start];
                Buffer.BlockCopy(buffer, start, line, 0, line.Length);
                start = stop + 1;

                var count = line.Length;
                var lineEightBit = false;
                if (count > 0 && line[count - 1] == (byte)'\r') count--;   // the CR of the CRLF
                for (var i = 0; i < count; i++)
                {
                    var b = line[i];
                    // A NUL, a bare CR or another control would end or split the line in some
                    // reader downstream; a space keeps the line's shape and says nothing.
                    if ((b < 0x20 && b != (byte)'\t') || b == 0x7F) line[i] = (byte)' ';
                    else if (b >= 0x80) lineEightBit = true;
                }
                eightBit |= lineEightBit;

                if (utf8 && lineEightBit)
                {
                    line = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(line, 0, count));
                    count = line.Length;
                }
                if (count > MaxLineOctets)
                {
                    count = Utf8Boundary(line, MaxLineOctets);
                    truncated = true;
                }
                output.Write(line, 0, count);
                output.WriteByte((byte)'\r');
                output.WriteByte((byte)'\n');
            }
            return new OriginalHeaderSection(output.ToArray(), truncated, eightBit);
        }

        /// <summary>The largest length not above <paramref name="max"/> that does not split a UTF-8
        /// sequence (octets that are not UTF-8 are cut anywhere, which is all one can do).</summary>
        internal static int Utf8Boundary(IReadOnlyList<byte> bytes, int max)
        {
            var cut = max;
            // Back off over continuation octets (10xxxxxx) to the start of the sequence they belong to.
            var steps = 0;
            while (cut > 0 && steps < 3 && (bytes[cut] & 0xC0) == 0x80)
            {
                cut--;
                steps++;
            }
            return (bytes[cut] & 0xC0) == 0x80 ? max : cut;
        }
    }
}
