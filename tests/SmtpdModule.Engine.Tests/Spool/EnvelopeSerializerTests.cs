using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class EnvelopeSerializerTests
    {
        const string Id = "20250102T030405-abcdefghijklmnopqrstuvwx";

        static Envelope Sample()
        {
            var e = TempSpool.NewEnvelope("<b@example.com>", "<c@example.com>");
            e.Id = Id;
            e.Size = 1234;   // not written: a message file's size is derived from its length
            e.Body = EnvelopeBodyType.EightBitMime;
            return e;
        }

        static string WriteText(Envelope e)
        {
            var w = new StringWriter();
            EnvelopeSerializer.Write(w, e);
            return w.ToString();
        }

        static Envelope RoundTrip(Envelope e) => EnvelopeSerializer.Read(new StringReader(WriteText(e)));

        [Fact]
        public void Writes_the_documented_format_with_lf_line_ends_and_a_closing_empty_line()
        {
            var e = Sample();
            e.Recipients[1].Status = RecipientStatus.Delivered;
            Assert.Equal(
                "smtpd-envelope 1\n" +
                "id: 20250102T030405-abcdefghijklmnopqrstuvwx\n" +
                "received: 2025-01-02T03:04:05.1234567Z\n" +
                "client-address: 192.0.2.10\n" +
                "client-name: mail.example.org\n" +
                "helo: mail.example.org\n" +
                "from: <a@example.org>\n" +
                "rcpt: <b@example.com>\n" +
                "rcpt: <c@example.com>; status=delivered\n" +
                "protocol: ESMTP\n" +
                "body: 8BITMIME\n" +
                "smtputf8: false\n" +
                "\n",
                WriteText(e));
        }

        [Fact]
        public void Round_trip_keeps_every_field()
        {
            var e = Sample();
            e.SmtpUtf8 = true;
            e.Recipients[0].Status = RecipientStatus.Failed;
            e.Recipients[1].Status = RecipientStatus.Delivered;
            var back = RoundTrip(e);

            Assert.Equal(Id, back.Id);
            Assert.Equal(e.Received, back.Received);
            Assert.Equal(e.Received.UtcTicks, back.Received.UtcTicks);
            Assert.Equal(TimeSpan.Zero, back.Received.Offset);
            Assert.Equal("192.0.2.10", back.ClientAddress);
            Assert.Equal("mail.example.org", back.ClientName);
            Assert.Equal("mail.example.org", back.Helo);
            Assert.Equal("<a@example.org>", back.From);
            Assert.Equal(new[] { "<b@example.com>", "<c@example.com>" }, back.Recipients.Select(r => r.Address));
            Assert.Equal(new[] { RecipientStatus.Failed, RecipientStatus.Delivered }, back.Recipients.Select(r => r.Status));
            Assert.Equal("ESMTP", back.Protocol);
            Assert.Equal(0, back.Size);   // not stored
            Assert.Equal(EnvelopeBodyType.EightBitMime, back.Body);
            Assert.True(back.SmtpUtf8);
        }

        [Fact]
        public void Received_in_another_offset_is_written_as_the_same_instant_in_utc()
        {
            var e = Sample();
            e.Received = new DateTimeOffset(2025, 1, 2, 5, 4, 5, TimeSpan.FromHours(2)).AddTicks(1);
            Assert.Contains("received: 2025-01-02T03:04:05.0000001Z\n", WriteText(e));
            Assert.Equal(e.Received, RoundTrip(e).Received);
        }

        [Fact]
        public void Absent_client_name_and_helo_read_back_as_null()
        {
            var e = Sample();
            e.ClientName = null;
            e.Helo = null;
            var text = WriteText(e);
            Assert.DoesNotContain("client-name", text);
            Assert.DoesNotContain("helo", text);
            var back = EnvelopeSerializer.Read(new StringReader(text));
            Assert.Null(back.ClientName);
            Assert.Null(back.Helo);
        }

        [Fact]
        public void Empty_values_are_kept_apart_from_absent_ones()
        {
            var e = Sample();
            e.Helo = "";
            e.From = "<>";
            var back = RoundTrip(e);
            Assert.Equal("", back.Helo);
            Assert.Equal("<>", back.From);
        }

        [Theory]
        [InlineData("evil\r\nrcpt: <x@y>", "evil%0D%0Arcpt: <x@y>")]
        [InlineData("100%", "100%25")]
        [InlineData("%0A", "%250A")]
        [InlineData("tab\there", "tab%09here")]
        [InlineData("nul\0del\u007f", "nul%00del%7F")]
        [InlineData("trailing space ", "trailing space%20")]
        [InlineData(" leading", " leading")]
        [InlineData("a;b:c=d", "a;b:c=d")]
        [InlineData("h\u00e9llo \u4e16\u754c", "h\u00e9llo \u4e16\u754c")]
        public void Values_are_escaped_onto_one_line_and_read_back_unchanged(string helo, string written)
        {
            var e = Sample();
            e.Helo = helo;
            var text = WriteText(e);
            Assert.Contains("\nhelo: " + written + "\n", text);
            Assert.Equal(14, text.Split('\n').Length);   // 12 lines, the empty one, and the empty string after the last LF
            Assert.Equal(helo, EnvelopeSerializer.Read(new StringReader(text)).Helo);
        }

        [Fact]
        public void Semicolons_and_line_breaks_in_a_recipient_do_not_split_it()
        {
            var e = Sample();
            e.Recipients.Clear();
            e.Recipients.Add(new EnvelopeRecipient("<\"a;status=failed\"@example.com>"));
            e.Recipients.Add(new EnvelopeRecipient("<x\r\n@example.com> "));
            var text = WriteText(e);
            Assert.Contains("rcpt: <\"a%3Bstatus=failed\"@example.com>\n", text);
            var back = EnvelopeSerializer.Read(new StringReader(text));
            Assert.Equal("<\"a;status=failed\"@example.com>", back.Recipients[0].Address);
            Assert.Equal(RecipientStatus.Pending, back.Recipients[0].Status);
            Assert.Equal("<x\r\n@example.com> ", back.Recipients[1].Address);
        }

        [Fact]
        public void Unknown_keys_and_recipient_parameters_survive_a_round_trip_in_order()
        {
            const string text =
                "smtpd-envelope 1\n" +
                "id: " + Id + "\n" +
                "received: 2025-01-02T03:04:05.1234567Z\n" +
                "x-later: first\n" +
                "client-address: 2001:db8::1\n" +
                "from: <a@example.org>\n" +
                "rcpt: <b@example.com>; attempts=3; status=failed; last-error=550 5.1.1 no%3B such user\n" +
                "rcpt: <c@example.com>; next-attempt=2025-01-03T00:00:00.0000000Z\n" +
                "protocol: ESMTPSA\n" +
                "body: 7BIT\n" +
                "smtputf8: false\n" +
                "x-later: second\n" +
                "dsn-envid: abc%25\n" +
                "\n";
            var e = EnvelopeSerializer.Read(new StringReader(text));
            Assert.Equal(new[]
            {
                new KeyValuePair<string, string>("x-later", "first"),
                new KeyValuePair<string, string>("x-later", "second"),
                new KeyValuePair<string, string>("dsn-envid", "abc%"),
            }, e.ExtraFields);
            Assert.Equal(RecipientStatus.Failed, e.Recipients[0].Status);
            Assert.Equal(new[]
            {
                new KeyValuePair<string, string>("attempts", "3"),
                new KeyValuePair<string, string>("last-error", "550 5.1.1 no; such user"),
            }, e.Recipients[0].ExtraParameters);
            Assert.Equal("next-attempt", e.Recipients[1].ExtraParameters.Single().Key);

            var again = EnvelopeSerializer.Read(new StringReader(WriteText(e)));
            Assert.Equal(e.ExtraFields, again.ExtraFields);
            Assert.Equal(e.Recipients[0].ExtraParameters, again.Recipients[0].ExtraParameters);
            Assert.Equal(e.Recipients[1].ExtraParameters, again.Recipients[1].ExtraParameters);
            Assert.Equal(RecipientStatus.Failed, again.Recipients[0].Status);
            // Known keys first in their order, then the unknown ones in theirs: writing is canonical.
            Assert.Equal(WriteText(e), WriteText(again));
        }

        [Fact]
        public void Reading_stops_at_the_empty_line_and_leaves_the_reader_at_the_body()
        {
            var reader = new StringReader(WriteText(Sample()) + "Subject: x\n\nsize: 1\n");
            Assert.Equal(Id, EnvelopeSerializer.Read(reader).Id);
            Assert.Equal("Subject: x\n\nsize: 1\n", reader.ReadToEnd());
        }

        [Fact]
        public void Crlf_line_ends_are_read_too()
        {
            var text = WriteText(Sample()).Replace("\n", "\r\n");
            Assert.Equal(Id, EnvelopeSerializer.Read(new StringReader(text)).Id);
        }

        public static IEnumerable<object[]> Malformed()
        {
            var good = WriteText(Sample());
            string Replace(string line, string with) => good.Replace(line + "\n", with);

            yield return new object[] { "empty file", "", 1, null };
            yield return new object[] { "other version", good.Replace("smtpd-envelope 1", "smtpd-envelope 2"), 1, null };
            yield return new object[] { "byte order mark", "\uFEFF" + good, 1, null };
            yield return new object[] { "no closing empty line", good.Substring(0, good.Length - 1), 13, null };
            yield return new object[] { "line without colon", Replace("body: 8BITMIME", "body 8BITMIME\n"), 11, null };
            yield return new object[] { "upper-case key", Replace("body: 8BITMIME", "Body: 8BITMIME\n"), 11, null };
            yield return new object[] { "empty line ends the header early", Replace("protocol: ESMTP", "\nprotocol: ESMTP\n"), 0, "protocol" };
            yield return new object[] { "short escape", Replace("helo: mail.example.org", "helo: mail%4\n"), 6, "helo" };
            yield return new object[] { "non-hex escape", Replace("helo: mail.example.org", "helo: %GG\n"), 6, "helo" };
            yield return new object[] { "escape above ascii", Replace("helo: mail.example.org", "helo: %C3%A9\n"), 6, "helo" };
            yield return new object[] { "raw control", Replace("helo: mail.example.org", "helo: a\tb\n"), 6, "helo" };
            yield return new object[] { "duplicate key", Replace("body: 8BITMIME", "body: 8BITMIME\nbody: 7BIT\n"), 12, "body" };
            yield return new object[] { "stated size", Replace("protocol: ESMTP", "protocol: ESMTP\nsize: 1234\n"), 11, "size" };
            yield return new object[] { "missing from", Replace("from: <a@example.org>", ""), 0, "from" };
            yield return new object[] { "no recipients", Replace("rcpt: <b@example.com>", "").Replace("rcpt: <c@example.com>\n", ""), 0, "rcpt" };
            yield return new object[] { "traversal id", Replace("id: " + Id, "id: ../../etc/passwd\n"), 2, "id" };
            yield return new object[] { "unknown body", Replace("body: 8BITMIME", "body: BINARYMIME\n"), 11, "body" };
            yield return new object[] { "bad smtputf8", Replace("smtputf8: false", "smtputf8: yes\n"), 12, "smtputf8" };
            yield return new object[] { "bad received", Replace("received: 2025-01-02T03:04:05.1234567Z", "received: 2025-01-02T03:04:05Z\n"), 3, "received" };
            yield return new object[] { "lower-case protocol", Replace("protocol: ESMTP", "protocol: esmtp\n"), 10, "protocol" };
            yield return new object[] { "unknown status", Replace("rcpt: <b@example.com>", "rcpt: <b@example.com>; status=bounced\n"), 8, "rcpt" };
            yield return new object[] { "status twice", Replace("rcpt: <b@example.com>", "rcpt: <b@example.com>; status=failed; status=delivered\n"), 8, "rcpt" };
            yield return new object[] { "parameter without value", Replace("rcpt: <b@example.com>", "rcpt: <b@example.com>; attempts\n"), 8, "rcpt" };
            yield return new object[] { "parameter with bad name", Replace("rcpt: <b@example.com>", "rcpt: <b@example.com>; Attempts=1\n"), 8, "rcpt" };
        }

        [Theory]
        [MemberData(nameof(Malformed))]
        public void Malformed_envelopes_are_corrupt_with_line_and_key(string why, string text, int line, string key)
        {
            var ex = Assert.Throws<SpoolException>(() => EnvelopeSerializer.Read(new StringReader(text)));
            Assert.True(ex.Reason == SpoolErrorReason.Corrupt, why);
            Assert.Equal(line, ex.Line);
            Assert.Equal(key, ex.Key);
            Assert.Null(ex.Id);
        }

        [Fact]
        public void Write_refuses_envelopes_it_could_not_read_back()
        {
            void Refused(Action<Envelope> spoil)
            {
                var e = Sample();
                spoil(e);
                Assert.Throws<ArgumentException>(() => EnvelopeSerializer.Write(new StringWriter(), e));
            }

            Refused(e => e.Id = null);
            Refused(e => e.Id = "../" + Id.Substring(3));
            Refused(e => e.From = null);
            Refused(e => e.ClientAddress = null);
            Refused(e => e.Recipients.Clear());
            Refused(e => e.ExtraFields.Add(new KeyValuePair<string, string>("size", "1")));
            Refused(e => e.Protocol = "ESMTP\nrcpt: <x@y>");
            Refused(e => e.ExtraFields.Add(new KeyValuePair<string, string>("rcpt", "<x@y>")));
            Refused(e => e.ExtraFields.Add(new KeyValuePair<string, string>("Bad Key", "v")));
            Refused(e => e.Recipients[0].ExtraParameters.Add(new KeyValuePair<string, string>("status", "delivered")));
        }
    }
}
