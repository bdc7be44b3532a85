using System;
using System.IO;
using System.Linq;
using System.Text;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    /// <summary>Outgoing messages as the forwarder hands them to a transport, over bytes in memory.</summary>
    static class TestMessages
    {
        /// <summary>A message shaped like a spooled one: our Received header first, CRLF line ends.</summary>
        public static byte[] Simple(string subject = "test") => Encoding.ASCII.GetBytes(
            "Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n" +
            "\tby relay.example.net with ESMTP id 0123456789; Thu, 2 Jan 2025 03:04:05 +0000\r\n" +
            "From: a@example.org\r\nTo: b@example.com\r\nSubject: " + subject + "\r\n\r\nHello.\r\n");

        /// <summary>Everything a careless relay would change: dot lines (a lone dot, leading dots),
        /// a folded header with odd spacing, 8-bit bytes that are not UTF-8, a 5,000-character
        /// line, trailing white space, and a final line ending just before the spool's CRLF.</summary>
        public static byte[] Awkward()
        {
            var ms = new MemoryStream();
            void Ascii(string s) { var b = Encoding.ASCII.GetBytes(s); ms.Write(b, 0, b.Length); }
            Ascii("Received: from mail.example.org (mail.example.org [192.0.2.10])\r\n");
            Ascii("\tby relay.example.net with ESMTP id 0123456789; Thu, 2 Jan 2025 03:04:05 +0000\r\n");
            Ascii("From: a@example.org\r\nTo:   b@example.com ,\r\n  \t c@example.com\r\n");
            Ascii("Subject: =?utf-8?q?caf=C3=A9?=   \r\nContent-Type: text/plain; charset=iso-8859-1\r\n");
            Ascii("Content-Transfer-Encoding: 8bit\r\n\r\n");
            Ascii(".\r\n..\r\n.leading dot\r\n. \r\n");
            ms.Write(new byte[] { 0x63, 0x61, 0x66, 0xE9, 0x20, 0xFF, 0x80, 0x0D, 0x0A }, 0, 9);   // "café" in Latin-1, then bytes no charset wants
            Ascii(new string('x', 5000) + "\r\n");
            Ascii("trailing spaces   \r\n\r\n\r\nlast line without newline in DATA\r\n");
            return ms.ToArray();
        }

        public static OutgoingMessage Create(byte[] body, string from, params string[] recipients) =>
            Create(body, from, EnvelopeBodyType.SevenBit, false, recipients);

        public static OutgoingMessage Create(byte[] body, string from, EnvelopeBodyType bodyType, bool smtpUtf8, params string[] recipients)
        {
            var envelope = new Envelope
            {
                Id = SpoolId.New(),
                Received = DateTimeOffset.UtcNow,
                ClientAddress = "192.0.2.10",
                ClientName = "mail.example.org",
                Helo = "mail.example.org",
                From = "<" + from + ">",
                Protocol = "ESMTP",
                Size = body.Length,
                Body = bodyType,
                SmtpUtf8 = smtpUtf8,
            };
            foreach (var r in recipients) envelope.Recipients.Add(new EnvelopeRecipient("<" + r + ">"));
            var outgoing = recipients.Select((r, i) => new OutgoingRecipient(i, r)).ToArray();
            return new OutgoingMessage(envelope, outgoing, () => new MemoryStream(body, writable: false));
        }

        /// <summary>CRLF to LF, as smtp-sink writes what it received.</summary>
        public static byte[] WithLfLineEnds(byte[] bytes)
        {
            var ms = new MemoryStream();
            for (var i = 0; i < bytes.Length; i++)
                if (!(bytes[i] == '\r' && i + 1 < bytes.Length && bytes[i + 1] == '\n')) ms.WriteByte(bytes[i]);
            return ms.ToArray();
        }
    }
}
