using System;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The one file a spooled message is: its envelope header in the text form of
    /// <see cref="EnvelopeSerializer"/>, which ends with an empty line, then the message bytes
    /// exactly as they will be forwarded. One file means one fsync per commit; the header first
    /// means that listing the queue reads a few hundred bytes per message and never a body.
    /// </summary>
    /// <remarks>
    /// The header is written once, before the body, and never rewritten: the size is not in it but
    /// derived (file length minus header length), and what the forwarder learns per recipient goes
    /// to a file of its own (see about_SmtpdSpool). The header ends at the first line that is empty
    /// (or a lone CR, for a file an editor gave CRLF line ends); the body starts right after it and
    /// may contain anything.
    /// </remarks>
    internal static class MessageFile
    {
        /// <summary>The longest header written or read. Real ones are a few hundred bytes per
        /// recipient; the bound keeps a damaged file without its empty line from being read whole.</summary>
        public const int MaxHeaderBytes = 4 * 1024 * 1024;

        const int ReadChunk = 4096;

        static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);
        static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        /// <summary>The header of <paramref name="envelope"/> as bytes, empty line included, with the
        /// <see cref="MessageSeal"/> placeholder as its second line.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="envelope"/> is null.</exception>
        /// <exception cref="ArgumentException">The envelope cannot be written (see
        /// <see cref="EnvelopeSerializer.Write"/>), or its header exceeds <see cref="MaxHeaderBytes"/>.</exception>
        public static byte[] EncodeHeader(Envelope envelope)
        {
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            var text = new StringWriter();
            EnvelopeSerializer.Write(text, envelope);
            var serialized = text.ToString();
            var first = EnvelopeSerializer.Header.Length + 1;
            var bytes = new byte[first + MessageSeal.PlaceholderLine.Length + Utf8.GetByteCount(serialized) - first];
            Utf8.GetBytes(serialized, 0, first, bytes, 0);
            Buffer.BlockCopy(MessageSeal.PlaceholderLine, 0, bytes, first, MessageSeal.PlaceholderLine.Length);
            Utf8.GetBytes(serialized, first, serialized.Length - first, bytes, first + MessageSeal.PlaceholderLine.Length);
            if (bytes.Length > MaxHeaderBytes)
                throw new ArgumentException("The envelope's header would exceed " + MaxHeaderBytes + " bytes.", nameof(envelope));
            return bytes;
        }

        /// <summary>Reads the header at the start of <paramref name="stream"/>, leaving the stream
        /// at or a little past the body's start (reads are in 4 KiB steps). The envelope's
        /// <see cref="Envelope.Size"/> is not set.</summary>
        /// <param name="stream">The message file, positioned at 0.</param>
        /// <param name="headerLength">Where the body starts.</param>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.Corrupt"/>, without an id:
        /// no empty line within <see cref="MaxHeaderBytes"/>, text that is not UTF-8, or a header
        /// <see cref="EnvelopeSerializer.Read"/> refuses.</exception>
        /// <exception cref="IOException">Reading failed.</exception>
        public static Envelope ReadHeader(Stream stream, out int headerLength)
        {
            var buffer = new byte[ReadChunk];
            headerLength = FindHeaderEnd(stream, ref buffer);
            string text;
            try { text = StrictUtf8.GetString(buffer, 0, headerLength); }
            catch (DecoderFallbackException ex) { throw new SpoolException(null, SpoolErrorReason.Corrupt, ex); }
            var reader = new StringReader(text);
            var envelope = EnvelopeSerializer.Read(reader);
            // The serializer breaks lines at a lone CR too; if it found its empty line before ours,
            // the header holds a raw CR, which we never write.
            if (reader.Peek() != -1) throw new SpoolException(null, SpoolErrorReason.Corrupt);
            return envelope;
        }

        /// <summary>Where the body starts: the length of the header, empty line included.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.Corrupt"/>: no empty line
        /// within <see cref="MaxHeaderBytes"/>.</exception>
        /// <exception cref="IOException">Reading failed.</exception>
        public static int FindHeaderEnd(Stream stream)
        {
            var buffer = new byte[ReadChunk];
            return FindHeaderEnd(stream, ref buffer);
        }

        static int FindHeaderEnd(Stream stream, ref byte[] buffer)
        {
            int filled = 0, scanned = 0, lineStart = 0;
            while (true)
            {
                for (; scanned < filled; scanned++)
                {
                    if (buffer[scanned] != (byte)'\n') continue;
                    var length = scanned - lineStart;
                    if (length == 0 || (length == 1 && buffer[lineStart] == (byte)'\r')) return scanned + 1;
                    lineStart = scanned + 1;
                }
                if (filled == buffer.Length)
                {
                    if (buffer.Length >= MaxHeaderBytes) throw new SpoolException(null, SpoolErrorReason.Corrupt);
                    Array.Resize(ref buffer, Math.Min(buffer.Length * 2, MaxHeaderBytes));
                }
                var read = stream.Read(buffer, filled, buffer.Length - filled);
                // The file ends inside the header: cut short, or not a message file.
                if (read == 0) throw new SpoolException(null, SpoolErrorReason.Corrupt);
                filled += read;
            }
        }
    }
}
