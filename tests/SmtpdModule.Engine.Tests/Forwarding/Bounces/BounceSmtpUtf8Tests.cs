using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using MimeKit;
using SmtpdModule.Engine.Spool;
using Xunit;
using static SmtpdModule.Engine.Tests.Forwarding.Bounces.BounceSamples;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    /// <summary>Mail that came with SMTPUTF8 is returned in the RFC 6532/6533 forms.</summary>
    public class BounceSmtpUtf8Tests
    {
        const string Sender = "j\u00f6rg@b\u00fccher.example";
        const string Recipient = "\u7528\u6237@\u4f8b\u5b50.example";

        static Task<SmtpdModule.Engine.Forwarding.Bounces.BounceMessage> BuildUtf8Async(string diagnostic = "550 5.1.1 unbekannt: m\u00fcller") =>
            BuildAsync(Envelope("<" + Sender + ">", smtpUtf8: true, "<" + Recipient + ">"),
                       Message("From: " + Sender + "\r\nTo: " + Recipient + "\r\nSubject: gr\u00fc\u00dfe\r\n"),
                       new[] { Failed(0, Recipient, "5.1.1", diagnostic) });

        [Fact]
        public async Task Uses_global_delivery_status_and_global_headers()
        {
            var bounce = await BuildUtf8Async();
            AssertWellFormed(bounce);
            Assert.True(bounce.SmtpUtf8);
            Assert.Equal(EnvelopeBodyType.EightBitMime, bounce.Body);
            Assert.Equal("<" + Sender + ">", bounce.Recipient);

            var report = Assert.IsType<MultipartReport>(Parse(bounce).Body);
            Assert.Equal("delivery-status", report.ReportType);
            Assert.Equal("message/global-delivery-status", report[1].ContentType.MimeType);
            Assert.Equal("message/global-headers", report[2].ContentType.MimeType);
        }

        [Fact]
        public async Task A_non_ascii_recipient_is_a_utf8_address_type_and_the_diagnostic_stays_utf8()
        {
            var lines = Lines(await BuildUtf8Async());
            Assert.Contains("Final-Recipient: utf-8; " + Recipient, lines);
            Assert.Contains("Diagnostic-Code: smtp; 550 5.1.1 unbekannt: m\u00fcller", lines);
        }

        [Fact]
        public async Task The_to_field_carries_the_utf8_sender_unencoded()
        {
            var bounce = await BuildUtf8Async();
            Assert.Contains(Lines(bounce), l => l == "To: " + Sender);
            Assert.Equal(Sender, ((MailboxAddress)Parse(bounce).To.Single()).Address);
        }

        [Fact]
        public async Task Plus_equals_backslash_and_space_are_escaped_in_a_utf8_address()
        {
            var odd = "\"a b\\\\c\"+tag=x@\u4f8b\u5b50.example";
            var bounce = await BuildAsync(Envelope("<" + Sender + ">", smtpUtf8: true, "<" + odd + ">"),
                                          failed: new[] { Failed(0, odd) });
            AssertWellFormed(bounce);
            Assert.Contains("Final-Recipient: utf-8; \"a\\x{20}b\\x{5C}\\x{5C}c\"\\x{2B}tag\\x{3D}x@\u4f8b\u5b50.example", Lines(bounce));
        }

        [Fact]
        public async Task An_ascii_recipient_of_smtputf8_mail_keeps_the_rfc822_type()
        {
            var bounce = await BuildAsync(Envelope("<" + Sender + ">", smtpUtf8: true), failed: new[] { Failed(0, "b@example.com") });
            Assert.Contains("Final-Recipient: rfc822; b@example.com", Lines(bounce));
        }

        [Fact]
        public async Task Malformed_utf8_in_the_returned_header_is_replaced_not_copied()
        {
            var bytes = new byte[] { (byte)'S', (byte)'u', (byte)'b', (byte)':', (byte)' ', 0xC3, 0x28, 0xFF, (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n' };
            var bounce = await BuildAsync(Envelope("<" + Sender + ">", smtpUtf8: true), Message(bytes));
            AssertWellFormed(bounce);   // checks the whole bounce decodes as strict UTF-8
            Assert.Contains("Sub: \ufffd(\ufffd", Encoding.UTF8.GetString(bounce.ToArray()));
        }

        [Fact]
        public async Task A_long_line_of_multibyte_text_is_cut_between_characters()
        {
            var header = "X-Long: " + string.Concat(Enumerable.Repeat("\u00e9", 2000)) + "\r\n";
            var bounce = await BuildAsync(Envelope("<" + Sender + ">", smtpUtf8: true), Message(header));
            AssertWellFormed(bounce);
            var text = new UTF8Encoding(false, true).GetString(ReturnedHeader(bounce));
            Assert.Equal(8 + 495, text.TrimEnd('\r', '\n').Length);   // 8 + 495 × 2 octets = 998
        }
    }
}
