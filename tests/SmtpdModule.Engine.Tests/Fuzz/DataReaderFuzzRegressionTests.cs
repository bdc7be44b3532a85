using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Fuzz
{
    /// <summary>
    /// Findings of the fuzz target "data" (fuzz/README.md), fed to the entry point the harness
    /// drives: SmtpConnection.ReadDataAsync on a stream, then ReadLineAsync for what follows the
    /// final dot. Each input is given whole and one byte per read.
    /// </summary>
    public class DataReaderFuzzRegressionTests
    {
        static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

        sealed class Outcome
        {
            public SmtpConnection.DataResult Result;
            public string Stored;
            public string NextLine;
        }

        static async Task<Outcome> ReadAsync(string input, int chunk, long maxSize = long.MaxValue, int maxLine = 64 * 1024)
        {
            var stream = new ChunkedStream(Latin1.GetBytes(input), chunk);
            var conn = new SmtpConnection(null, stream, 2048, TimeSpan.FromSeconds(5), CancellationToken.None);
            var sink = new MemoryStream();
            var result = await conn.ReadDataAsync(sink, maxSize, maxLine);
            var next = result.Status == SmtpConnection.ReadStatus.Ok ? (await conn.ReadLineAsync(2048, false)).Line : null;
            return new Outcome { Result = result, Stored = Latin1.GetString(sink.ToArray()), NextLine = next };
        }

        public static TheoryData<int> Chunks => new TheoryData<int> { int.MaxValue, 1 };

        [Theory, MemberData(nameof(Chunks))]
        public async Task Dot_then_several_CRs_then_text_keeps_every_CR_as_a_line_end(int chunk)
        {
            // Found by the reference oracle: only one of the CRs after a leading dot was kept,
            // so ".\r\r\rX" was stored as "\rX" (message text changed in transit). Since the
            // smuggling fix every lone CR is stored as CRLF: three empty lines, then X.
            var o = await ReadAsync(".\r\r\rX\r\n.\r\nQUIT\r\n", chunk);
            Assert.Equal(SmtpConnection.ReadStatus.Ok, o.Result.Status);
            Assert.Equal("\r\n\r\n\r\nX\r\n", o.Stored);
            Assert.Equal(9, o.Result.Size);
            Assert.Equal(3, o.Result.BareLineEndings);
            Assert.Equal("QUIT", o.NextLine);
        }

        [Theory, MemberData(nameof(Chunks))]
        public async Task Afl_data_finding_0_dot_CR_CR_keeps_both_CRs(int chunk)
        {
            // afl-fuzz's first finding on the data target (fuzz/corpus/data/finding-dot-crs.bin,
            // less the four header bytes, which chose reads of 4, a line limit of 1016 and a size
            // limit of 192): ".\r\rast" was stored as "\rast". Since the smuggling fix neither
            // "\n.\r\r\n" nor a lone CR ends the text or a line's bytes: the input has no end.
            var input = " LF \u0002 Lli\0\0\u0001\0 alone\r\f\vlast\n.\r\rast\n.\r\r\nNOOP\u0001\0";
            var o = await ReadAsync(input, chunk == 1 ? 1 : 4, maxSize: 192, maxLine: 1016);
            Assert.Equal(SmtpConnection.ReadStatus.Eof, o.Result.Status);
            o = await ReadAsync(input + "\r\n.\r\n", chunk == 1 ? 1 : 4, maxSize: 192, maxLine: 1016);
            Assert.Equal(SmtpConnection.ReadStatus.Ok, o.Result.Status);
            Assert.Equal(" LF \u0002 Lli\0\0\u0001\0 alone\r\n\f\vlast\r\n.\r\n\r\nast\r\n.\r\n\r\nNOOP\u0001\0\r\n", o.Stored);
            Assert.False(o.Result.TooBig);
            Assert.Null(o.NextLine);
        }

        [Theory, MemberData(nameof(Chunks))]
        public async Task A_line_of_bare_CRs_is_stored_as_empty_lines(int chunk)
        {
            // Bare CRs held back before the line end were once stored without being counted, so a
            // line of them passed MaxTextLine whatever its length. Each is now a line end.
            var o = await ReadAsync(new string('\r', 1200) + "\n.\r\n", chunk, maxLine: 1000);
            Assert.Equal(SmtpConnection.ReadStatus.Ok, o.Result.Status);
            Assert.False(o.Result.LineTooLong);
            Assert.Equal(1199, o.Result.BareLineEndings);
            Assert.Equal(2400, o.Result.Size);
        }

        [Theory, MemberData(nameof(Chunks))]
        public async Task A_long_line_after_a_bare_CR_counts_against_the_line_limit(int chunk)
        {
            var o = await ReadAsync(".\r" + new string('X', 1200) + "\r\n.\r\n", chunk, maxLine: 1000);
            Assert.True(o.Result.LineTooLong);
        }

        [Theory, MemberData(nameof(Chunks))]
        public async Task More_CRs_after_a_dot_than_the_stage_holds_are_all_stored(int chunk)
        {
            var crs = new string('\r', 20000);
            var o = await ReadAsync("." + crs + "X\r\n.\r\n", chunk);
            Assert.Equal(SmtpConnection.ReadStatus.Ok, o.Result.Status);
            Assert.False(o.Result.LineTooLong);
            Assert.Equal(string.Concat(Enumerable.Repeat("\r\n", 20000)) + "X\r\n", o.Stored);
        }

        [Theory, MemberData(nameof(Chunks))]
        public async Task A_dot_followed_by_several_CRs_does_not_end_the_text(int chunk)
        {
            // It used to (the "." + CRs choice): a server ending at CRLF "." CRLF only would have
            // read what followed as text, and this proxy as commands.
            var o = await ReadAsync("a\r\n.\r\r\r\nNOOP\r\n.\r\n", chunk);
            Assert.Equal(SmtpConnection.ReadStatus.Ok, o.Result.Status);
            Assert.Equal("a\r\n\r\n\r\n\r\nNOOP\r\n", o.Stored);
            Assert.Null(o.NextLine);
        }

        /// <summary>Hands out at most <c>chunk</c> bytes per read, synchronously.</summary>
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

            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Task.FromResult(Read(buffer, offset, count));

            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => _data.Length;
            public override long Position { get => _pos; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
