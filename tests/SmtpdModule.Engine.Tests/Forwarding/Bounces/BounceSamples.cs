using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Bounces;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    /// <summary>A returned message, its envelope and failures, and the checks every bounce must pass.</summary>
    public static class BounceSamples
    {
        public const string Reporting = "relay.example.net";
        public const string SampleSpoolId = "20250102T030405-abcdefghijklmnopqrstuvwx";
        public static readonly DateTimeOffset ReceivedAt = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        public static readonly DateTimeOffset LastAttempt = new DateTimeOffset(2025, 1, 2, 3, 9, 30, TimeSpan.Zero);

        public const string OriginalHeader =
            "Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n" +
            "\tby relay.example.net (SmtpdModule) with ESMTP id " + SampleSpoolId + "; Thu, 2 Jan 2025 03:04:05 +0000\r\n" +
            "From: Alice <a@example.org>\r\n" +
            "To: b@example.com, c@example.com\r\n" +
            "Subject: quarterly figures\r\n" +
            "Message-Id: <m1@example.org>\r\n";

        public const string OriginalBody = "The body, which a bounce never returns.\r\n";

        public static Envelope Envelope(string from = "<a@example.org>", bool smtpUtf8 = false, params string[] recipients)
        {
            var e = new Envelope
            {
                Id = SampleSpoolId,
                Received = ReceivedAt,
                ClientAddress = "192.0.2.10",
                ClientName = "mail.example.org",
                Helo = "mail.example.org",
                From = from,
                Protocol = smtpUtf8 ? "UTF8SMTP" : "ESMTP",
                SmtpUtf8 = smtpUtf8,
            };
            foreach (var r in recipients.Length == 0 ? new[] { "<b@example.com>", "<c@example.com>" } : recipients)
                e.Recipients.Add(new EnvelopeRecipient(r));
            return e;
        }

        public static RecipientResult Failed(int index, string address, string status = "5.1.1",
                                             string diagnostic = "550 5.1.1 <b@example.com>: Recipient address rejected: User unknown",
                                             string type = "smtp") =>
            new RecipientResult(new OutgoingRecipient(index, address), DeliveryOutcome.Failed, status, diagnostic, type);

        public static IReadOnlyList<RecipientResult> TwoFailures() => new[]
        {
            Failed(0, "b@example.com"),
            Failed(1, "c@example.com", "5.2.2", "552 5.2.2 Mailbox full"),
        };

        public static Stream Message(string header = OriginalHeader, string body = OriginalBody) =>
            new MemoryStream(Encoding.UTF8.GetBytes(header + "\r\n" + body));

        public static Stream Message(byte[] bytes) => new MemoryStream(bytes);

        public static Task<BounceMessage> BuildAsync(Envelope envelope = null, Stream message = null,
                                                     IReadOnlyList<RecipientResult> failed = null, string remoteMta = "mx.example.com") =>
            BounceBuilder.BuildAsync(envelope ?? Envelope(), message ?? Message(), failed ?? TwoFailures(), LastAttempt, remoteMta, Reporting);

        public static MimeKit.MimeMessage Parse(BounceMessage bounce)
        {
            using var stream = bounce.OpenRead();
            return MimeKit.MimeMessage.Load(stream);
        }

        /// <summary>The returned header section as the bounce carries it, transfer encoding undone.
        /// MimeKit would parse text/rfc822-headers into a message and render it anew, so the octets
        /// are taken from a parse that treats that part as an opaque leaf.</summary>
        public static byte[] ReturnedHeader(BounceMessage bounce)
        {
            var options = MimeKit.ParserOptions.Default.Clone();
            options.RegisterMimeType("text/rfc822-headers", typeof(OpaquePart));
            options.RegisterMimeType("message/global-headers", typeof(OpaquePart));
            using var stream = bounce.OpenRead();
            var report = (MimeKit.MultipartReport)MimeKit.MimeMessage.Load(options, stream).Body;
            var part = Assert.IsType<OpaquePart>(report[2]);
            using var decoded = new MemoryStream();
            part.Content.DecodeTo(decoded);
            return decoded.ToArray();
        }

        /// <summary>What any bounce must be, whatever went in: CRLF line ends only, no NUL, no line
        /// over 998 octets, 7-bit unless it was built for SMTPUTF8, and valid UTF-8 if not.</summary>
        public static void AssertWellFormed(BounceMessage bounce)
        {
            var bytes = bounce.ToArray();
            Assert.Equal(bounce.Length, bytes.Length);
            var lineLength = 0;
            var longest = 0;
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                Assert.True(b != 0, "NUL at octet " + i);
                if (b == (byte)'\r')
                {
                    Assert.True(i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n', "bare CR at octet " + i);
                    longest = Math.Max(longest, lineLength);
                    lineLength = 0;
                    i++;
                    continue;
                }
                Assert.True(b != (byte)'\n', "bare LF at octet " + i);
                if (!bounce.SmtpUtf8) Assert.True(b < 0x80, "8-bit octet " + b + " at " + i + " in a 7-bit bounce");
                lineLength++;
            }
            Assert.Equal(0, lineLength);   // ends with CRLF
            Assert.True(Math.Max(longest, lineLength) <= 998, "a line of " + longest + " octets");
            if (bounce.SmtpUtf8) new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }

        /// <summary>Lines of the bounce's text, for looking at fields as they are written.</summary>
        public static string[] Lines(BounceMessage bounce) =>
            Encoding.UTF8.GetString(bounce.ToArray()).Split("\r\n");

        // Python's email package, a MIME parser we did not write. message/delivery-status is the one
        // type it splits into blocks itself; a message/global-delivery-status it reads as an embedded
        // message, so its blocks are split here, the same way.
        const string PythonScript = @"
import sys, json, base64, re, email, email.policy
from email.parser import HeaderParser
data = base64.b64decode(sys.stdin.read())
msg = email.message_from_bytes(data, policy=email.policy.default)
# Raw values, unfolded, with the UTF-8 octets the parser kept as surrogate escapes decoded.
def fields(m):
    return [[k, re.sub(r'\r?\n(?=[ \t])', '', v).strip().encode('utf-8', 'surrogateescape').decode('utf-8', 'replace')] for k, v in m.raw_items()]
out = {}
out['content_type'] = msg.get_content_type()
out['report_type'] = msg.get_param('report-type')
out['headers'] = fields(msg)
out['defects'] = [type(d).__name__ for p in msg.walk() for d in p.defects]
parts = msg.get_payload()
out['parts'] = [p.get_content_type() for p in parts]
out['text'] = parts[0].get_content()
ds = parts[1]
if ds.get_content_type() == 'message/delivery-status':
    blocks = [fields(b) for b in ds.get_payload()]
else:
    inner = ds.get_payload(0)
    rest = [b for b in re.split(r'\r?\n\r?\n', inner.get_payload(decode=True).decode('utf-8', 'replace')) if b.strip()]
    blocks = [fields(inner)] + [fields(HeaderParser(policy=email.policy.default).parsestr(b)) for b in rest]
out['blocks'] = blocks
if len(parts) > 2:
    h = parts[2]
    if h.get_content_type() == 'message/global-headers':
        out['original'] = fields(h.get_payload(0))
    else:
        raw = h.get_payload(decode=True).decode('utf-8', 'replace')
        out['original'] = fields(HeaderParser(policy=email.policy.default).parsestr(raw))
print(json.dumps(out, ensure_ascii=False))
";

        /// <summary>A leaf part whatever its type says (MimeKit registers only subclasses).</summary>
        public sealed class OpaquePart : MimeKit.MimePart
        {
            public OpaquePart(MimeKit.MimeEntityConstructorArgs args) : base(args) { }
        }

        /// <summary>Runs python3's email package over the bounce and returns what it saw.</summary>
        public static async Task<JsonElement> PythonReadsAsync(BounceMessage bounce)
        {
            var python = ExternalClient.Find("python3", "SMTPD_TEST_PYTHON");
            var run = await ExternalClient.RunAsync(python, new[] { "-c", PythonScript }, Convert.ToBase64String(bounce.ToArray()), 20000);
            if (run.ExitCode != 0) throw new XunitException("python's email package failed on the bounce:\n" + run);
            using var doc = JsonDocument.Parse(run.Stdout);
            return doc.RootElement.Clone();
        }

        /// <summary>The value of the first field named <paramref name="name"/> in a list of [name, value] pairs, or null.</summary>
        public static string Field(JsonElement fields, string name) =>
            fields.EnumerateArray()
                  .Where(f => string.Equals(f[0].GetString(), name, StringComparison.OrdinalIgnoreCase))
                  .Select(f => f[1].GetString())
                  .FirstOrDefault();
    }
}
