using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// Malformed UTF-8 in command arguments, through a real socket: with SMTPUTF8 an address must
    /// be well-formed UTF-8 (RFC 6531 §3.3, RFC 3629), else 501 for that command; a HELO/EHLO name
    /// likewise. The session goes on. Before, the bytes became U+FFFD and "MAIL FROM:&lt;\xff\xfe@x&gt;
    /// SMTPUTF8" was answered 250.
    /// </summary>
    public class Utf8InputTests
    {
        public static TheoryData<string, string> Malformed => new TheoryData<string, string>
        {
            { "FF FE", "bytes that never occur" },
            { "80", "a stray continuation byte" },
            { "C3", "a lead byte without its continuation" },
            { "E2 82", "a three-byte form cut short" },
            { "C0 AF", "overlong '/' in two bytes" },
            { "C1 BF", "overlong in two bytes" },
            { "E0 80 AF", "overlong '/' in three bytes" },
            { "F0 82 82 AC", "overlong euro sign in four bytes" },
            { "ED A0 80", "a high surrogate (U+D800)" },
            { "ED BF BF", "a low surrogate (U+DFFF)" },
            { "ED A0 BD ED B8 80", "a surrogate pair in CESU-8" },
            { "F4 90 80 80", "above U+10FFFF" },
            { "F8 88 80 80 80", "a five-byte form" },
            { "C3 28", "a lead byte then ASCII" },
        };

        static byte[] Hex(string hex) => hex.Split(' ').Select(h => Convert.ToByte(h, 16)).ToArray();

        static byte[] Line(string before, byte[] bad, string after) =>
            Encoding.ASCII.GetBytes(before).Concat(bad).Concat(Encoding.ASCII.GetBytes(after + "\r\n")).ToArray();

        [Theory, MemberData(nameof(Malformed))]
        public async Task Malformed_UTF8_in_MAIL_RCPT_and_EHLO_gets_501_and_the_session_goes_on(string hex, string what)
        {
            var bad = Hex(hex);
            using var proxy = TestProxy.Start();
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);

            await smtp.WriteAsync(Line("MAIL FROM:<", bad, "@example.org> SMTPUTF8"));
            Assert.StartsWith("501 5.1.7 ", await smtp.ReadReplyAsync());
            // Without SMTPUTF8 too: the bytes are malformed before they are non-ASCII.
            await smtp.WriteAsync(Line("MAIL FROM:<", bad, "@example.org>"));
            Assert.StartsWith("501 5.1.7 ", await smtp.ReadReplyAsync());

            await smtp.SendAsync("MAIL FROM:<s\u00e9nder@example.org> SMTPUTF8", "250");
            await smtp.WriteAsync(Line("RCPT TO:<r", bad, "@example.com>"));
            Assert.StartsWith("501 5.1.3 ", await smtp.ReadReplyAsync());
            await smtp.SendAsync("RCPT TO:<r\u00e9cipient@example.com>", "250");

            await smtp.WriteAsync(Line("EHLO host", bad, ".example"));
            Assert.StartsWith("501 5.5.4 ", await smtp.ReadReplyAsync());
            await smtp.WriteAsync(Line("HELO host", bad, ".example"));
            Assert.StartsWith("501 5.5.4 ", await smtp.ReadReplyAsync());
            await smtp.SendAsync("EHLO host.example", "250");
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "mail" && e.Message == null && e.Data.Any(d => d.Key == "from" && ((string)d.Value).Contains("\uFFFD")));
            _ = what;
        }

        [Theory]
        [InlineData("C3 BC")]            // ü
        [InlineData("E6 97 A5 E6 9C AC")] // 日本
        [InlineData("F0 9F 98 80")]      // U+1F600
        [InlineData("F4 8F BF BF")]      // U+10FFFF, the last
        [InlineData("EE 80 80")]         // U+E000, just past the surrogates
        public async Task Well_formed_UTF8_addresses_are_accepted_with_SMTPUTF8(string hex)
        {
            using var proxy = TestProxy.Start();
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.WriteAsync(Line("MAIL FROM:<", Hex(hex), "@example.org> SMTPUTF8"));
            Assert.StartsWith("250 ", await smtp.ReadReplyAsync());
            await smtp.WriteAsync(Line("RCPT TO:<", Hex(hex), "@example.com>"));
            Assert.StartsWith("250 ", await smtp.ReadReplyAsync());
        }

        [Fact]
        public void The_validator_agrees_with_a_strict_decoder_on_random_bytes()
        {
            var strict = new UTF8Encoding(false, true);
            var random = new Random(12);
            var interesting = new byte[] { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0, 0xF4, 0xF5, 0xFF };
            for (int n = 0; n < 200000; n++)
            {
                var b = new byte[random.Next(1, 7)];
                for (int i = 0; i < b.Length; i++) b[i] = random.Next(2) == 0 ? interesting[random.Next(interesting.Length)] : (byte)random.Next(256);
                bool decodes;
                try { strict.GetString(b); decodes = true; }
                catch (DecoderFallbackException) { decodes = false; }
                Assert.True(decodes == Utf8Validator.IsWellFormed(b, 0, b.Length), BitConverter.ToString(b));
            }
        }
    }
}
