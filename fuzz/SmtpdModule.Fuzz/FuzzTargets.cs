using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Net;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Fuzz
{
    /// <summary>
    /// The fuzz targets: each takes the raw bytes AFL made and drives one parser the way the proxy
    /// does. An exception escaping a target is a finding; so is a broken invariant, which the
    /// targets turn into <see cref="FuzzInvariantException"/>. Nothing here reads a socket or a file.
    /// </summary>
    internal static class FuzzTargets
    {
        // What the session uses: invalid UTF-8 becomes U+FFFD instead of throwing.
        static readonly UTF8Encoding Utf8 = new UTF8Encoding(false, false);

        public static readonly IReadOnlyDictionary<string, Action<byte[]>> All = new Dictionary<string, Action<byte[]>>
        {
            ["command"] = Command,
            ["data"] = Data,
            ["address"] = Address,
            ["rules"] = Rules,
        };

        /// <summary>Whole command lines, one per LF (a CR before it dropped, as SmtpConnection does),
        /// through CommandParser and then MailPath as SmtpSession calls it.</summary>
        public static void Command(byte[] input)
        {
            foreach (var raw in Utf8.GetString(input).Split('\n'))
            {
                var line = raw.EndsWith("\r", StringComparison.Ordinal) ? raw.Substring(0, raw.Length - 1) : raw;
                bool ok = CommandParser.TryParse(line, out var command, out var error);
                if (ok == (command == null) || ok == (error != null))
                    throw new FuzzInvariantException("TryParse returned " + ok + " with command " + (command != null) + " and error " + (error != null));
                if (!ok)
                {
                    _ = error.ToWire();
                    continue;
                }
                if (command.Verb != SmtpVerb.Mail && command.Verb != SmtpVerb.Rcpt) continue;
                if (command.PathText == null) throw new FuzzInvariantException(command.Verb + " parsed without a path");
                foreach (var strict in new[] { true, false })
                {
                    var problem = MailPath.TryParse(command.PathText, command.Verb == SmtpVerb.Mail, strict, command.SmtpUtf8, out var path);
                    if ((problem == MailPath.Problem.None) != (path != null))
                        throw new FuzzInvariantException("MailPath " + problem + " with path " + (path != null));
                    _ = PeerText.CleanAddress(path != null ? path.Text : command.PathText);
                }
            }
        }

        /// <summary>Paths and peer strings: the first byte picks MailPath's flags, the rest is the text.
        /// The cleaners must leave only printable ASCII, never a leading '-' in an address.</summary>
        public static void Address(byte[] input)
        {
            if (input.Length == 0) return;
            byte flags = input[0];
            var text = Utf8.GetString(input, 1, input.Length - 1);
            var problem = MailPath.TryParse(text, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, out var path);
            if ((problem == MailPath.Problem.None) != (path != null))
                throw new FuzzInvariantException("MailPath " + problem + " with path " + (path != null));
            if (path != null && (path.Mailbox == null || path.LocalPart == null || path.Domain == null))
                throw new FuzzInvariantException("MailPath parts missing");

            var mailbox = new MailboxText(text);
            if ((mailbox.Local == null) != (mailbox.Domain == null))
                throw new FuzzInvariantException("MailboxText has only one of local part and domain");
            _ = mailbox.NameServerDomain;

            var address = PeerText.CleanAddress(text);
            CheckCleaned(address, "CleanAddress");
            if (address.Length > 0 && address[0] == '-') throw new FuzzInvariantException("CleanAddress left a leading '-'");
            CheckCleaned(PeerText.CleanName(text), "CleanName");
            _ = PeerText.LooksLikeIPAddress(text);
        }

        static void CheckCleaned(string s, string what)
        {
            foreach (var c in s)
                if (c < 0x20 || c > 0x7E)
                    throw new FuzzInvariantException(what + " left U+" + ((int)c).ToString("X4"));
        }

        /// <summary>A rules file: the parser never throws for content, whatever the text.</summary>
        public static void Rules(byte[] input)
        {
            var result = RuleFileParser.Parse(Utf8.GetString(input), "fuzz.rules");
            foreach (var d in result.Diagnostics)
                if (d.Line < 1 || d.Column < 0) throw new FuzzInvariantException("diagnostic at " + d.Line + ":" + d.Column);
            if (result.HasErrors != (result.Diagnostics.Count > 0 && !AllWarnings(result))) throw new FuzzInvariantException("HasErrors disagrees");
        }

        static bool AllWarnings(RuleParseResult r)
        {
            foreach (var d in r.Diagnostics) if (d.Severity == DiagnosticSeverity.Error) return false;
            return true;
        }

        /// <summary>
        /// The DATA reader on an in-memory stream instead of a socket. Byte 0 picks the size of
        /// each read (low four bits: 1..16, or everything at once) and the bare line ending policy
        /// (bit 4: reject), bytes 1-2 the line limit above 1000, byte 3 the size limit; the rest is
        /// what the client sends after DATA. Differential: the reader must agree with the plain
        /// reference, and the same bytes read whole must give the same message, flags and
        /// leftover input as when split into reads.
        /// </summary>
        public static void Data(byte[] input)
        {
            if (input.Length < 4) return;
            int chunk = (input[0] & 0x0F) + 1;
            bool reject = (input[0] & 0x10) != 0;
            int maxLine = 1000 + ((input[1] << 8) | input[2]) % 2048;
            long maxSize = input[3] == 0xFF ? long.MaxValue : 64L + input[3] * 64L;
            var body = new byte[input.Length - 4];
            Buffer.BlockCopy(input, 4, body, 0, body.Length);

            var whole = ReadData(body, int.MaxValue, maxSize, maxLine, reject);
            var expected = ReferenceData(body, maxSize, maxLine, reject);
            if (expected != null && !whole.StartsWith(expected, StringComparison.Ordinal))
                throw new FuzzInvariantException("the reader differs from the reference:\n  reader:    " + whole + "\n  reference: " + expected);
            var split = ReadData(body, chunk, maxSize, maxLine, reject);
            if (whole != split)
                throw new FuzzInvariantException("reads of " + chunk + " bytes differ from one read:\n  whole: " + whole + "\n  split: " + split);
        }

        static string Cut(string s) => s.Length <= 400 ? s : s.Substring(0, 400) + "...";

        static string ReadData(byte[] body, int chunk, long maxSize, int maxLine, bool reject)
        {
            var stream = new ChunkedStream(body, chunk);
            var conn = new SmtpConnection(null, stream, 2048, TimeSpan.FromSeconds(5), CancellationToken.None);
            var sink = new MemoryStream();
            var r = conn.ReadDataAsync(sink, maxSize, maxLine, reject).GetAwaiter().GetResult();
            bool stored = !r.TooBig && !r.LineTooLong && !(reject && r.BareLineEndings > 0);
            if (r.Status == SmtpConnection.ReadStatus.Ok && stored && sink.Length != r.Size)
                throw new FuzzInvariantException("stored " + sink.Length + " bytes, counted " + r.Size);
            if (r.Status == SmtpConnection.ReadStatus.Ok && stored)
                CheckStored(sink.ToArray());
            var sb = new StringBuilder();
            sb.Append(r.Status).Append(" size=").Append(r.Size).Append(" tooBig=").Append(r.TooBig).Append(" lineTooLong=").Append(r.LineTooLong)
              .Append(" bare=").Append(r.BareLineEndings);
            if (stored) sb.Append(" body=").Append(Convert.ToBase64String(sink.ToArray()));
            // What follows the final dot must still be there for the next command (RFC 2920).
            if (r.Status == SmtpConnection.ReadStatus.Ok)
            {
                var next = conn.ReadLineAsync(2048, false).GetAwaiter().GetResult();
                sb.Append(" next=").Append(next.Status).Append(':').Append(next.Line);
            }
            return sb.ToString();
        }

        /// <summary>
        /// The DATA rules written out plainly (RFC 5321 §4.1.1.4, §4.5.2, and the proxy's choices
        /// documented on ReadDataAsync): a line is what comes before a CRLF, nothing else; the
        /// first line that is exactly "." ends the text; else a leading dot is removed, and every
        /// CR or LF left in the line (each lone) is counted and stored as CRLF, ending a stored
        /// line. Null when the text does not end (the reader then reports end of stream).
        /// </summary>
        static string ReferenceData(byte[] body, long maxSize, int maxLine, bool reject)
        {
            var stored = new MemoryStream();
            bool lineTooLong = false;
            long bare = 0;
            int start = 0;
            while (true)
            {
                int crlf = IndexOfCrlf(body, start);
                if (crlf < 0) return null;
                if (crlf - start == 1 && body[start] == '.') break;
                int first = start < crlf && body[start] == '.' ? start + 1 : start;
                int segment = first;
                for (int i = first; i <= crlf; i++)
                {
                    if (i < crlf && body[i] != '\r' && body[i] != '\n') continue;
                    if (i < crlf) bare++;
                    if (i - segment + 2 > maxLine) lineTooLong = true;
                    stored.Write(body, segment, i - segment);
                    stored.WriteByte((byte)'\r');
                    stored.WriteByte((byte)'\n');
                    segment = i + 1;
                }
                start = crlf + 2;
            }
            var text = stored.ToArray();
            bool tooBig = text.Length > maxSize;
            var sb = new StringBuilder();
            sb.Append(SmtpConnection.ReadStatus.Ok).Append(" size=").Append(text.Length).Append(" tooBig=").Append(tooBig).Append(" lineTooLong=").Append(lineTooLong)
              .Append(" bare=").Append(bare);
            if (!tooBig && !lineTooLong && !(reject && bare > 0)) sb.Append(" body=").Append(Convert.ToBase64String(text));
            return sb.ToString();
        }

        static int IndexOfCrlf(byte[] b, int from)
        {
            for (int i = from; i + 1 < b.Length; i++)
                if (b[i] == '\r' && b[i + 1] == '\n') return i;
            return -1;
        }

        /// <summary>Stored text has CRLF line ends only: no lone CR, no lone LF.</summary>
        static void CheckStored(byte[] b)
        {
            for (int i = 0; i < b.Length; i++)
            {
                if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))
                    throw new FuzzInvariantException("bare LF stored at " + i);
                if (b[i] == '\r' && (i + 1 == b.Length || b[i + 1] != '\n'))
                    throw new FuzzInvariantException("bare CR stored at " + i);
            }
            if (b.Length > 0 && (b.Length < 2 || b[b.Length - 2] != '\r' || b[b.Length - 1] != '\n'))
                throw new FuzzInvariantException("stored text does not end in CRLF");
        }

        /// <summary>A read-only stream that hands out at most <c>chunk</c> bytes per read, synchronously.</summary>
        sealed class ChunkedStream : Stream
        {
            readonly byte[] _data;
            readonly int _chunk;
            int _pos;

            public ChunkedStream(byte[] data, int chunk) { _data = data; _chunk = chunk; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                int n = Math.Min(Math.Min(count, _chunk), _data.Length - _pos);
                Buffer.BlockCopy(_data, _pos, buffer, offset, n);
                _pos += n;
                return n;
            }

            public override System.Threading.Tasks.Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                System.Threading.Tasks.Task.FromResult(Read(buffer, offset, count));

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }

    /// <summary>A target's own check failed: a finding like a crash.</summary>
    internal sealed class FuzzInvariantException : Exception
    {
        public FuzzInvariantException(string message) : base(message) { }
    }
}
