using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding.Transports;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>
    /// The forwarder's last guard against lone CRs and LFs: the same bytes out whatever the reads
    /// of the spool file return (a CR at the end of one read and its LF at the start of the next
    /// is one line end, not two).
    /// </summary>
    public class CrlfNormalizingStreamTests
    {
        static byte[] Reference(byte[] b)
        {
            var o = new MemoryStream();
            for (int i = 0; i < b.Length; i++)
            {
                if (b[i] == '\r' || b[i] == '\n')
                {
                    o.WriteByte((byte)'\r');
                    o.WriteByte((byte)'\n');
                    if (b[i] == '\r' && i + 1 < b.Length && b[i + 1] == '\n') i++;
                }
                else o.WriteByte(b[i]);
            }
            return o.ToArray();
        }

        sealed class Trickle : MemoryStream
        {
            readonly int _chunk;
            public Trickle(byte[] b, int chunk) : base(b) { _chunk = chunk; }
            public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, _chunk));
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Task.FromResult(Read(buffer, offset, count));
        }

        [Theory]
        [InlineData(1)]
        [InlineData(2)]
        [InlineData(5)]
        [InlineData(100000)]
        public async Task Every_lone_CR_and_LF_becomes_CRLF_across_read_boundaries(int chunk)
        {
            var random = new Random(chunk);
            var alphabet = new byte[] { (byte)'\r', (byte)'\n', (byte)'.', 0, (byte)'a' };
            for (int n = 0; n < 2000; n++)
            {
                var input = Enumerable.Range(0, random.Next(0, 40)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray();
                using var sync = new CrlfNormalizingStream(new Trickle(input, chunk));
                var outSync = new MemoryStream();
                var buffer = new byte[random.Next(1, 8)];
                int r;
                while ((r = sync.Read(buffer, 0, buffer.Length)) > 0) outSync.Write(buffer, 0, r);
                Assert.Equal(Reference(input), outSync.ToArray());

                using var async = new CrlfNormalizingStream(new Trickle(input, chunk));
                var outAsync = new MemoryStream();
                await async.CopyToAsync(outAsync);
                Assert.Equal(Reference(input), outAsync.ToArray());
            }
        }

        [Fact]
        public void CRLF_text_passes_unchanged_and_ReadByte_agrees()
        {
            var text = System.Text.Encoding.ASCII.GetBytes("Subject: a\r\n\r\n.b\r\n\r\n");
            using var s = new CrlfNormalizingStream(new MemoryStream(text));
            var got = new MemoryStream();
            int b;
            while ((b = s.ReadByte()) >= 0) got.WriteByte((byte)b);
            Assert.Equal(text, got.ToArray());
        }
    }
}
