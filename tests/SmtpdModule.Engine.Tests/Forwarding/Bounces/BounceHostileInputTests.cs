using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using MimeKit;
using SmtpdModule.Engine.Forwarding.Bounces;
using Xunit;
using static SmtpdModule.Engine.Tests.Forwarding.Bounces.BounceSamples;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    /// <summary>The returned header comes from a client and diagnostics from remote servers: whatever
    /// they hold, the bounce stays valid and bounded.</summary>
    public class BounceHostileInputTests
    {
        static string HeaderPartText(BounceMessage bounce) => Encoding.UTF8.GetString(ReturnedHeader(bounce));

        static HeaderList Block(BounceMessage bounce, int index) =>
            ((MessageDeliveryStatus)((MultipartReport)Parse(bounce).Body)[1]).StatusGroups[index];

        [Fact]
        public async Task A_one_mebibyte_header_line_yields_a_bounded_valid_bounce()
        {
            var header = "Received: from x by y; Thu, 2 Jan 2025 03:04:05 +0000\r\n" +
                         "X-Huge: " + new string('a', 1024 * 1024) + "\r\n" +
                         "Subject: after the huge one\r\n";
            var bounce = await BuildAsync(message: Message(header));

            AssertWellFormed(bounce);
            Assert.True(bounce.Length < BounceBuilder.HeaderSectionLimit + 8 * 1024, "bounce of " + bounce.Length + " octets");
            var text = HeaderPartText(bounce);
            Assert.StartsWith("Received: from x by y;", text);
            Assert.Contains("\r\nX-Huge: " + new string('a', 998 - 8) + "\r\n", text);
            Assert.DoesNotContain("after the huge one", text);   // beyond the 64 KiB read
            Assert.Contains("shortened", ((TextPart)((MultipartReport)Parse(bounce).Body)[0]).Text);
        }

        [Fact]
        public async Task A_single_enormous_line_is_shown_shortened()
        {
            var bounce = await BuildAsync(message: Message("X-Only: " + new string('b', 1024 * 1024) + "\r\n"));
            AssertWellFormed(bounce);
            var text = HeaderPartText(bounce);
            Assert.Equal(998 + 2, text.Length);
            Assert.StartsWith("X-Only: bbb", text);
        }

        [Fact]
        public async Task Reads_no_further_than_the_limit_of_an_endless_header()
        {
            using var endless = new EndlessHeader();
            var bounce = await BuildAsync(message: endless);
            Assert.InRange(endless.Consumed, 1, BounceBuilder.HeaderSectionLimit);
            AssertWellFormed(bounce);
        }

        [Fact]
        public async Task Nul_bare_cr_and_other_controls_in_the_header_become_spaces()
        {
            var bytes = Encoding.ASCII.GetBytes("Subject: a\0b\rc\x1b[31md\x7f\r\nX-Bare-Lf: e\nX-Tab:\tf\r\n\r\nbody\r\n");
            var bounce = await BuildAsync(message: Message(bytes));

            AssertWellFormed(bounce);
            Assert.Equal("Subject: a b c [31md \r\nX-Bare-Lf: e\r\nX-Tab:\tf\r\n", HeaderPartText(bounce));
        }

        [Fact]
        public async Task Eight_bit_header_octets_without_smtputf8_travel_quoted_printable()
        {
            var bytes = Encoding.UTF8.GetBytes("Subject: caf\u00e9 \u00fcber\r\n\r\nbody\r\n");
            var bounce = await BuildAsync(message: Message(bytes));

            AssertWellFormed(bounce);   // 7-bit throughout
            var part = ((MultipartReport)Parse(bounce).Body)[2];
            Assert.Equal("text/rfc822-headers", part.ContentType.MimeType);
            Assert.Equal("quoted-printable", part.Headers["Content-Transfer-Encoding"]);
            Assert.Equal("Subject: caf\u00e9 \u00fcber\r\n", HeaderPartText(bounce));
        }

        [Fact]
        public async Task A_diagnostic_is_one_line_without_controls_and_capped()
        {
            var diagnostic = "550 5.7.1 \x1b[31mred\x1b[0m\r\nInjected-Field: yes\0" + new string('z', 5000);
            var bounce = await BuildAsync(failed: new[] { Failed(0, "b@example.com", "5.7.1", diagnostic) });

            AssertWellFormed(bounce);
            var block = Block(bounce, 1);
            Assert.False(block.Contains("Injected-Field"));
            var code = block["Diagnostic-Code"];
            Assert.StartsWith("smtp; 550 5.7.1 [31mred [0m Injected-Field: yes", code);
            Assert.EndsWith("zzz...", code);
            Assert.InRange(code.Length, 400, "smtp; ".Length + 500 + 3);
            Assert.DoesNotContain(Lines(bounce), l => l.StartsWith("Injected-Field", StringComparison.Ordinal));
        }

        [Fact]
        public async Task Non_ascii_in_a_diagnostic_becomes_a_question_mark_in_a_7bit_report()
        {
            var bounce = await BuildAsync(failed: new[] { Failed(0, "b@example.com", "5.1.1", "550 Benutzer unbekannt: m\u00fcller \ud83d\udce7 \ud800") });
            AssertWellFormed(bounce);
            Assert.Equal("smtp; 550 Benutzer unbekannt: m?ller ? ?", Block(bounce, 1)["Diagnostic-Code"]);
        }

        [Fact]
        public async Task A_hostile_remote_mta_name_loses_what_a_host_name_cannot_hold()
        {
            var bounce = await BuildAsync(remoteMta: "mx.example.com\r\nX-Evil: 1 [192.0.2.1]");
            AssertWellFormed(bounce);
            Assert.Equal("dns; mx.example.comX-Evil:1[192.0.2.1]", Block(bounce, 1)["Remote-MTA"]);
        }

        [Fact]
        public async Task Many_failures_with_long_diagnostics_stay_bounded_per_recipient()
        {
            var failed = Enumerable.Range(0, 200)
                .Select(i => Failed(i, "user" + i + "@example.com", "5.1.1", "550 " + new string('x', 100_000)))
                .ToArray();
            var bounce = await BuildAsync(failed: failed);
            AssertWellFormed(bounce);
            Assert.True(bounce.Length < 200 * 1400 + 16 * 1024, "bounce of " + bounce.Length + " octets");
            Assert.Equal(201, ((MessageDeliveryStatus)((MultipartReport)Parse(bounce).Body)[1]).StatusGroups.Count);
        }

        /// <summary>A header that never ends, counting what is read from it.</summary>
        sealed class EndlessHeader : Stream
        {
            static readonly byte[] Line = Encoding.ASCII.GetBytes("X-Again: and again and again\r\n");
            long _position;
            public long Consumed { get; private set; }
            public override bool CanRead => true;
            public override bool CanSeek => false;
            public override bool CanWrite => false;
            public override long Length => throw new NotSupportedException();
            public override long Position { get => _position; set => throw new NotSupportedException(); }
            public override void Flush() { }
            public override int Read(byte[] buffer, int offset, int count)
            {
                for (var i = 0; i < count; i++) buffer[offset + i] = Line[(_position + i) % Line.Length];
                _position += count;
                Consumed += count;
                return count;
            }
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
            public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        }
    }
}
