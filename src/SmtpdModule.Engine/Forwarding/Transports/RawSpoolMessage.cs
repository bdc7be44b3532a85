using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Dresses the spooled bytes as a <see cref="MimeMessage"/> that MailKit writes out unchanged.
    /// </summary>
    /// <remarks>
    /// <para>MailKit only sends a <see cref="MimeMessage"/>, whose <c>WriteTo</c> is not virtual:
    /// it writes the message's header fields, a blank line, then asks the body to write itself
    /// (<see cref="MimeEntity.WriteTo(FormatOptions, Stream, bool, CancellationToken)"/>, which is
    /// virtual). A relay must pass the message through byte for byte (RFC 5321 §2.3.10 and §4.4:
    /// add trace fields, change nothing else), so the bytes are split at their first CRLF:</para>
    /// <list type="bullet">
    /// <item>the first line becomes the only header, marked invalid, which MimeKit writes as its raw
    /// bytes without adding a colon (the form it uses to round-trip a broken header line);</item>
    /// <item>the blank line MimeKit writes after the headers is that line's own CRLF;</item>
    /// <item>the body is a <see cref="MimePart"/> whose content is the rest of the spooled bytes,
    /// copied as they are.</item>
    /// </list>
    /// <para>The bytes are read through <see cref="CrlfNormalizingStream"/>: a lone CR or LF in
    /// the spool (never stored by this version's proxy) goes out as CRLF, so lines on the wire
    /// are what the next hop will take them for. MailKit dot-stuffs on the wire (a "." after an
    /// LF) and ends the data with CRLF . CRLF, adding a CRLF first only when the bytes lack a
    /// final one. The message's MIME-Version and the
    /// part's Content-* fields exist only to steer MailKit (BODY=8BITMIME is chosen from the
    /// part's Content-Transfer-Encoding); <see cref="FormatOptions.HiddenHeaders"/> keeps them
    /// off the wire.</para>
    /// </remarks>
    internal static class RawSpoolMessage
    {
        /// <summary>Builds the message and the format options to send it with.</summary>
        /// <param name="message">The spooled message.</param>
        /// <param name="eightBit">Ask for BODY=8BITMIME (RFC 6152).</param>
        /// <param name="international">Ask for SMTPUTF8 (RFC 6531).</param>
        /// <exception cref="SpoolReadException">The spooled bytes cannot be read.</exception>
        public static (MimeMessage Message, FormatOptions Format) Create(OutgoingMessage message, bool eightBit, bool international)
        {
            // One open per attempt: the stream that gave the first line goes on to give the body.
            var source = OpenAfterFirstLine(message, out var firstLine);
            var mime = new MimeMessage((IEnumerable<Header>)new Header[] { new RawLineHeader(firstLine) });
            var body = new RawBodyPart(message, source);
            if (eightBit) body.ContentTransferEncoding = ContentEncoding.EightBit;
            mime.Body = body;

            var format = FormatOptions.Default.Clone();
            format.International = international;
            format.HiddenHeaders.Add(HeaderId.MimeVersion);
            format.HiddenHeaders.Add(HeaderId.ContentType);
            format.HiddenHeaders.Add(HeaderId.ContentTransferEncoding);
            return (mime, format);
        }

        /// <summary>The spooled bytes, lines ending in CRLF, from just after the first line's CRLF;
        /// <paramref name="firstLine"/> is what came before it.</summary>
        /// <exception cref="SpoolReadException">The spooled bytes cannot be read.</exception>
        static Stream OpenAfterFirstLine(OutgoingMessage message, out byte[] firstLine)
        {
            Stream source = null;
            try
            {
                source = new CrlfNormalizingStream(message.OpenBody());
                firstLine = ReadFirstLine(source);
                return source;
            }
            catch (Exception ex) when (!(ex is OperationCanceledException))
            {
                source?.Dispose();
                throw new SpoolReadException(message.Id, ex);
            }
        }

        /// <summary>The bytes before the first CRLF (all of them when there is none), leaving
        /// <paramref name="stream"/> just after that CRLF.</summary>
        static byte[] ReadFirstLine(Stream stream)
        {
            using (var line = new MemoryStream())
            {
                var previous = -1;
                int b;
                while ((b = stream.ReadByte()) >= 0)
                {
                    if (b == '\n' && previous == '\r')
                    {
                        line.SetLength(line.Length - 1);
                        break;
                    }
                    line.WriteByte((byte)b);
                    previous = b;
                }
                return line.ToArray();
            }
        }

        /// <summary>One raw line, written as it is: an invalid header is written as its raw field
        /// only (no colon, no value).</summary>
        sealed class RawLineHeader : Header
        {
            public RawLineHeader(byte[] line) : base(ParserOptions.Default, line, Array.Empty<byte>(), true)
            {
            }
        }

        /// <summary>The spooled bytes after the first line's CRLF.</summary>
        sealed class RawBodyPart : MimePart
        {
            readonly OutgoingMessage _message;
            Stream _opened;   // just after the first line; the first write takes it, any later one reopens

            public RawBodyPart(OutgoingMessage message, Stream opened)
            {
                _message = message;
                _opened = opened;
                // No Content-Type of our own: nothing of this part is written but its content.
                Headers.Clear();
            }

            public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default) =>
                WriteToAsync(options, stream, contentOnly, cancellationToken).GetAwaiter().GetResult();

            public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
            {
                var source = Interlocked.Exchange(ref _opened, null) ?? OpenAfterFirstLine(_message, out _);
                var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);   // one per message sent: borrowed
                try
                {
                    using (source)
                    {
                        while (true)
                        {
                            int n;
                            try
                            {
                                n = await source.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false);
                            }
                            catch (Exception ex) when (!(ex is OperationCanceledException))
                            {
                                throw new SpoolReadException(_message.Id, ex);
                            }
                            if (n == 0) break;
                            await stream.WriteAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                        }
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            protected override void Dispose(bool disposing)
            {
                // The message was refused before its data, or never sent: its file is let go here.
                if (disposing) Interlocked.Exchange(ref _opened, null)?.Dispose();
                base.Dispose(disposing);
            }
        }
    }

    /// <summary>The spooled message could not be read while sending it: the fault is ours, not the
    /// next hop's, and the message is deferred.</summary>
    internal sealed class SpoolReadException : Exception
    {
        public SpoolReadException(string id, Exception inner)
            : base("cannot read spooled message " + id + ": " + inner.Message, inner)
        {
        }
    }
}
