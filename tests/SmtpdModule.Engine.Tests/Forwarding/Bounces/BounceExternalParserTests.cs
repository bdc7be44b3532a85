using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using Xunit;
using static SmtpdModule.Engine.Tests.Forwarding.Bounces.BounceSamples;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    /// <summary>The bounce as python3's email package, a parser we did not write, reads it.</summary>
    public class BounceExternalParserTests
    {
        static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()).ToArray();

        [Fact]
        public async Task Python_sees_a_delivery_status_report_with_every_field()
        {
            var seen = await PythonReadsAsync(await BuildAsync());

            Assert.Empty(Strings(seen.GetProperty("defects")));
            Assert.Equal("multipart/report", seen.GetProperty("content_type").GetString());
            Assert.Equal("delivery-status", seen.GetProperty("report_type").GetString());
            Assert.Equal(new[] { "text/plain", "message/delivery-status", "text/rfc822-headers" }, Strings(seen.GetProperty("parts")));

            var headers = seen.GetProperty("headers");
            Assert.Equal("Mail Delivery System <MAILER-DAEMON@" + Reporting + ">", Field(headers, "From"));
            Assert.Equal("a@example.org", Field(headers, "To"));
            Assert.Equal("auto-replied", Field(headers, "Auto-Submitted"));
            Assert.NotNull(Field(headers, "Date"));
            Assert.NotNull(Field(headers, "Message-Id"));

            Assert.Contains("550 5.1.1 <b@example.com>: Recipient address rejected: User unknown", seen.GetProperty("text").GetString());

            var blocks = seen.GetProperty("blocks");
            Assert.Equal(3, blocks.GetArrayLength());
            Assert.Equal("dns; " + Reporting, Field(blocks[0], "Reporting-MTA"));
            Assert.Equal("Thu, 02 Jan 2025 03:04:05 +0000", Field(blocks[0], "Arrival-Date"));
            Assert.Equal("rfc822; b@example.com", Field(blocks[1], "Final-Recipient"));
            Assert.Equal("failed", Field(blocks[1], "Action"));
            Assert.Equal("5.1.1", Field(blocks[1], "Status"));
            Assert.Equal("dns; mx.example.com", Field(blocks[1], "Remote-MTA"));
            Assert.Equal("smtp; 550 5.1.1 <b@example.com>: Recipient address rejected: User unknown", Field(blocks[1], "Diagnostic-Code"));
            Assert.Equal("Thu, 02 Jan 2025 03:09:30 +0000", Field(blocks[1], "Last-Attempt-Date"));
            Assert.Equal("rfc822; c@example.com", Field(blocks[2], "Final-Recipient"));
            Assert.Equal("5.2.2", Field(blocks[2], "Status"));

            var original = seen.GetProperty("original");
            Assert.Equal("quarterly figures", Field(original, "Subject"));
            Assert.Equal("<m1@example.org>", Field(original, "Message-Id"));
        }

        [Fact]
        public async Task Python_reads_the_smtputf8_form()
        {
            const string sender = "j\u00f6rg@b\u00fccher.example";
            const string recipient = "\u7528\u6237@\u4f8b\u5b50.example";
            var bounce = await BuildAsync(Envelope("<" + sender + ">", smtpUtf8: true, "<" + recipient + ">"),
                                          Message("From: " + sender + "\r\nSubject: gr\u00fc\u00dfe\r\n"),
                                          new[] { Failed(0, recipient) });
            var seen = await PythonReadsAsync(bounce);

            Assert.Equal("multipart/report", seen.GetProperty("content_type").GetString());
            Assert.Equal("delivery-status", seen.GetProperty("report_type").GetString());
            Assert.Equal(new[] { "text/plain", "message/global-delivery-status", "message/global-headers" }, Strings(seen.GetProperty("parts")));
            Assert.Equal(sender, Field(seen.GetProperty("headers"), "To"));
            var blocks = seen.GetProperty("blocks");
            Assert.Equal(2, blocks.GetArrayLength());
            Assert.Equal("utf-8; " + recipient, Field(blocks[1], "Final-Recipient"));
            Assert.Equal("failed", Field(blocks[1], "Action"));
            Assert.Equal("gr\u00fc\u00dfe", Field(seen.GetProperty("original"), "Subject"));
            Assert.Contains(recipient, seen.GetProperty("text").GetString());
        }

        [Fact]
        public async Task Python_reads_a_bounce_of_hostile_input_without_defects()
        {
            var header = "Subject: a\0b\rc\r\nX-Huge: " + new string('a', 1024 * 1024) + "\r\n";
            var bounce = await BuildAsync(message: Message(header),
                                          failed: new[] { Failed(0, "b@example.com", "5.7.1", "550 \x1b]0;pwned\x07\r\nX-Injected: 1\0" + new string('z', 3000)) });
            var seen = await PythonReadsAsync(bounce);

            Assert.Empty(Strings(seen.GetProperty("defects")));
            var block = seen.GetProperty("blocks")[1];
            Assert.Null(Field(block, "X-Injected"));
            Assert.StartsWith("smtp; 550 ]0;pwned X-Injected: 1 zzz", Field(block, "Diagnostic-Code"));
            Assert.Equal("a b c", Field(seen.GetProperty("original"), "Subject"));
        }

        [Fact]
        public async Task Python_decodes_quoted_printable_8bit_header_octets()
        {
            var bounce = await BuildAsync(message: Message(Encoding.UTF8.GetBytes("Subject: caf\u00e9\r\n\r\n")));
            var seen = await PythonReadsAsync(bounce);
            Assert.Empty(Strings(seen.GetProperty("defects")));
            Assert.Equal("caf\u00e9", Field(seen.GetProperty("original"), "Subject"));
        }
    }
}
