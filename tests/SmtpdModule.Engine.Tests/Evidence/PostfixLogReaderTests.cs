using System;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using Xunit;

namespace SmtpdModule.Engine.Tests.Evidence
{
    /// <summary>
    /// Postfix's maillog as decision records: refusals from smtpd's reject lines, accepted
    /// recipients pieced together from client=, qmgr's from= and the delivery agents' to= lines.
    /// The excerpts are written for the tests in the shapes Postfix 3.x logs.
    /// </summary>
    public class PostfixLogReaderTests
    {
        static readonly TrafficLogOptions Utc2026 = new TrafficLogOptions { Year = 2026, TimeZone = TimeZoneInfo.Utc };

        static DecisionRecord[] Read(string log, TrafficLogOptions options = null) =>
            PostfixLogReader.Read(new StringReader(log), options ?? Utc2026).ToArray();

        [Fact]
        public void A_NOQUEUE_reject_is_a_refused_RCPT_with_the_reply_as_logged()
        {
            var records = Read(
                "Dec  7 00:55:07 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <victim@elsewhere.example>: Relay access denied; from=<spam@bulk.example> to=<victim@elsewhere.example> proto=ESMTP helo=<bulk.example>\n" +
                "Dec  7 00:56:12 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from mail.partner.example[192.0.2.10]: 450 4.1.8 <x@nodomain.example>: Sender address rejected: Domain not found; from=<x@nodomain.example> to=<alice@example.test> proto=SMTP helo=<mail.partner.example>\n");

            Assert.Equal(2, records.Length);
            var r = records[0];
            Assert.Equal(new DateTimeOffset(2026, 12, 7, 0, 55, 7, TimeSpan.Zero), r.Time);
            Assert.Equal(PolicyStage.Rcpt, r.Stage);
            Assert.Equal(VerdictKind.Reject, r.Kind);
            Assert.Equal(new[] { "554 5.7.1 <victim@elsewhere.example>: Relay access denied" }, r.Replies);
            Assert.Equal("198.51.100.7", r.ClientAddress);
            Assert.Null(r.ClientName);
            Assert.Equal("bulk.example", r.Helo);
            Assert.True(r.Esmtp);
            Assert.Equal("<spam@bulk.example>", r.From);
            Assert.Equal("<victim@elsewhere.example>", r.To);
            Assert.Null(r.Session);
            Assert.Equal("Imported", r.Basis);
            Assert.Equal("imported from postfix", r.Reason);
            // unknown[...]: the proxy's reverse lookup would find no name.
            var ptr = Assert.Single(r.Facts);
            Assert.Equal("7.100.51.198.in-addr.arpa", ptr.Name);
            Assert.Equal(DnsRecordType.PTR, ptr.RecordType);
            Assert.Equal("NameError", ptr.Status);

            Assert.Equal(VerdictKind.TempFail, records[1].Kind);
            Assert.False(records[1].Esmtp);
            Assert.Equal("mail.partner.example", records[1].ClientName);
            Assert.Equal("<alice@example.test>", records[1].To);
        }

        [Fact]
        public void A_MAIL_reject_is_a_refused_MAIL_without_a_recipient_and_keeps_a_queue_id_as_its_session()
        {
            var r = Assert.Single(Read(
                "Dec  7 01:02:03 mx1 postfix/smtpd[4117]: 4QmZ1k2Xz3z9vN: reject: MAIL from unknown[198.51.100.7]: 553 5.7.1 <a@b.example>: Sender address rejected: not logged in; from=<a@b.example> proto=ESMTP helo=<b.example>\n"));
            Assert.Equal(PolicyStage.Mail, r.Stage);
            Assert.Equal(VerdictKind.Reject, r.Kind);
            Assert.Null(r.To);
            Assert.Equal("<a@b.example>", r.From);
            Assert.Equal("4QmZ1k2Xz3z9vN", r.Session);
        }

        [Fact]
        public void A_postscreen_refusal_is_a_refused_RCPT_whose_client_name_is_not_known()
        {
            var r = Assert.Single(Read(
                "Dec  7 02:00:00 mx1 postfix/postscreen[3001]: NOQUEUE: reject: RCPT from [198.51.100.9]:51234: 550 5.7.1 Service unavailable; client [198.51.100.9] blocked using zen.example; from=<s@b.example>, to=<u@example.test>, proto=ESMTP, helo=<b.example>\n"));
            Assert.Equal(VerdictKind.Reject, r.Kind);
            Assert.Equal(new[] { "550 5.7.1 Service unavailable; client [198.51.100.9] blocked using zen.example" }, r.Replies);
            Assert.Equal("198.51.100.9", r.ClientAddress);
            Assert.Equal("<s@b.example>", r.From);
            Assert.Equal("<u@example.test>", r.To);
            Assert.Equal("b.example", r.Helo);
            Assert.True(r.Esmtp);
            Assert.Null(r.ClientName);
            Assert.Empty(r.Facts);   // postscreen looks up no name: a replay asks, or lists the PTR as unrecorded
        }

        const string Accepted =
            "Dec  7 03:10:00 mx1 postfix/smtpd[5001]: connect from mail.partner.example[192.0.2.10]\n" +
            "Dec  7 03:10:01 mx1 postfix/smtpd[5001]: 4QmZ9a1bC2z9vX: client=mail.partner.example[192.0.2.10]\n" +
            "Dec  7 03:10:01 mx1 postfix/cleanup[5003]: 4QmZ9a1bC2z9vX: message-id=<n1@partner.example>\n" +
            "Dec  7 03:10:02 mx1 postfix/qmgr[1877]: 4QmZ9a1bC2z9vX: from=<news@partner.example>, size=2210, nrcpt=3 (queue active)\n" +
            "Dec  7 03:10:02 mx1 postfix/smtpd[5001]: disconnect from mail.partner.example[192.0.2.10] ehlo=1 mail=1 rcpt=2 data=1 quit=1 commands=6\n" +
            "Dec  7 03:10:02 mx1 postfix/local[5010]: 4QmZ9a1bC2z9vX: to=<alice@mx1.example.test>, orig_to=<sales@example.test>, relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n" +
            "Dec  7 03:10:02 mx1 postfix/local[5010]: 4QmZ9a1bC2z9vX: to=<bob@mx1.example.test>, orig_to=<sales@example.test>, relay=local, delay=0.2, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n" +
            "Dec  7 03:10:03 mx1 postfix/smtp[5011]: 4QmZ9a1bC2z9vX: to=<carol@far.example>, relay=none, delay=1.2, delays=0.1/0/1.1/0, dsn=4.4.1, status=deferred (connect to mx.far.example[203.0.113.80]:25: Connection timed out)\n" +
            "Dec  7 03:40:03 mx1 postfix/smtp[5102]: 4QmZ9a1bC2z9vX: to=<carol@far.example>, relay=none, delay=1801, delays=1800/0/1/0, dsn=4.4.1, status=deferred (connect to mx.far.example[203.0.113.80]:25: Connection timed out)\n" +
            "Dec  7 04:40:05 mx1 postfix/smtp[5230]: 4QmZ9a1bC2z9vX: to=<carol@far.example>, relay=mx.far.example[203.0.113.80]:25, delay=5403, delays=5400/0/1/2, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 91F2A)\n" +
            "Dec  7 04:40:05 mx1 postfix/qmgr[1877]: 4QmZ9a1bC2z9vX: removed\n";

        [Fact]
        public void An_accepted_message_gives_one_record_per_original_recipient_however_often_its_delivery_is_retried()
        {
            var records = Read(Accepted);

            Assert.Equal(new[] { "<sales@example.test>", "<carol@far.example>" }, records.Select(r => r.To).ToArray());
            foreach (var r in records)
            {
                Assert.Equal(new DateTimeOffset(2026, 12, 7, 3, 10, 1, TimeSpan.Zero), r.Time);   // smtpd's client= line
                Assert.Equal("4QmZ9a1bC2z9vX", r.Session);
                Assert.Equal(PolicyStage.Rcpt, r.Stage);
                Assert.Equal(VerdictKind.Continue, r.Kind);
                Assert.Equal(new[] { "250 2.1.5 Recipient OK" }, r.Replies);
                Assert.Equal("<news@partner.example>", r.From);
                Assert.Equal("192.0.2.10", r.ClientAddress);
                Assert.Equal("mail.partner.example", r.ClientName);
                Assert.Null(r.Helo);   // Postfix does not log the HELO of accepted mail
                // The name as the proxy's forward-confirmed reverse lookup would derive it.
                Assert.Equal(new[]
                {
                    "Dns 10.2.0.192.in-addr.arpa PTR: Ok [mail.partner.example]",
                    "Dns mail.partner.example A: Ok [192.0.2.10]",
                    "Dns mail.partner.example AAAA: Ok",
                }, r.Facts.Select(f => f.ToString()).ToArray());
            }
        }

        [Fact]
        public void Mail_that_did_not_come_in_through_smtpd_is_not_imported()
        {
            var stats = new TrafficLogStats();
            var records = Read(
                "Dec  7 03:20:00 mx1 postfix/pickup[1880]: 4QmZB1c2D3z9vY: uid=0 from=<root>\n" +
                "Dec  7 03:20:00 mx1 postfix/cleanup[5003]: 4QmZB1c2D3z9vY: message-id=<r1@mx1.example.test>\n" +
                "Dec  7 03:20:00 mx1 postfix/qmgr[1877]: 4QmZB1c2D3z9vY: from=<root@mx1.example.test>, size=412, nrcpt=1 (queue active)\n" +
                "Dec  7 03:20:00 mx1 postfix/local[5010]: 4QmZB1c2D3z9vY: to=<root@mx1.example.test>, orig_to=<root>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)\n" +
                "Dec  7 03:20:00 mx1 postfix/qmgr[1877]: 4QmZB1c2D3z9vY: removed\n" +
                // A content filter hands the message back through a second smtpd: counted on its first pass.
                "Dec  7 03:21:00 mx1 postfix/smtpd[5301]: 4QmZC9d8E7z9vZ: client=localhost[127.0.0.1], orig_queue_id=4QmZ9a1bC2z9vX, orig_client=mail.partner.example[192.0.2.10]\n" +
                "Dec  7 03:21:00 mx1 postfix/qmgr[1877]: 4QmZC9d8E7z9vZ: from=<news@partner.example>, size=2410, nrcpt=1 (queue active)\n" +
                "Dec  7 03:21:01 mx1 postfix/lmtp[5310]: 4QmZC9d8E7z9vZ: to=<alice@example.test>, relay=store[private/dovecot-lmtp], delay=0.5, delays=0.1/0/0.1/0.3, dsn=2.0.0, status=sent (250 2.0.0 Saved)\n",
                new TrafficLogOptions { Year = 2026, TimeZone = TimeZoneInfo.Utc, Stats = stats });

            Assert.Empty(records);
            Assert.Equal(0, stats.Skipped);
            Assert.Equal(8, stats.Lines);
        }

        [Fact]
        public void IPv6_clients_RFC_3339_stamps_and_service_names_are_read()
        {
            var records = Read(
                "2026-12-07T00:55:07.123456+01:00 mx1 postfix/submission/smtpd[6001]: NOQUEUE: reject: RCPT from unknown[2001:db8::1]: 550 5.7.1 <x@y.example>: Recipient address rejected: Access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<[IPv6:2001:db8::1]>\n" +
                "2026-12-07T00:56:00.000001+00:00 mx1 postfix-out/smtpd[7001]: 4QmZD1e2F3z9wA: client=mx6.partner.example[2001:db8::25]\n" +
                "2026-12-07T00:56:00.100000+00:00 mx1 postfix-out/qmgr[7002]: 4QmZD1e2F3z9wA: from=<>, size=3310, nrcpt=1 (queue active)\n" +
                // The same queue id in another instance is another message.
                "2026-12-07T00:56:00.200000+00:00 mx1 postfix/qmgr[1877]: 4QmZD1e2F3z9wA: from=<other@wrong.example>, size=1, nrcpt=1 (queue active)\n" +
                "2026-12-07T00:56:01.000000+00:00 mx1 postfix-out/smtp[7003]: 4QmZD1e2F3z9wA: to=<postmaster@example.test>, relay=in.example.test[192.0.2.30]:25, delay=1, delays=0.1/0/0.4/0.5, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n");

            Assert.Equal(2, records.Length);
            Assert.Equal(new DateTimeOffset(2026, 12, 6, 23, 55, 7, TimeSpan.Zero).AddTicks(1234560), records[0].Time);
            Assert.Equal("2001:db8::1", records[0].ClientAddress);
            Assert.Equal("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", records[0].Facts.Single().Name);
            Assert.Equal("[IPv6:2001:db8::1]", records[0].Helo);

            var v6 = records[1];
            Assert.Equal("<>", v6.From);
            Assert.Equal("mx6.partner.example", v6.ClientName);
            Assert.Equal(new[]
            {
                "Dns 5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa PTR: Ok [mx6.partner.example]",
                "Dns mx6.partner.example A: Ok",
                "Dns mx6.partner.example AAAA: Ok [2001:db8::25]",
            }, v6.Facts.Select(f => f.ToString()).ToArray());
        }

        [Fact]
        public void A_garbled_line_is_counted_and_passed_over()
        {
            var stats = new TrafficLogStats();
            var seen = new System.Collections.Generic.List<SkippedLine>();
            var records = Read(
                "Dec  7 00:55:07 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <v@e.example>: Relay access denied; from=<s@b.example> to=<v@e.example> proto=ESMTP helo=<b.example>\n" +
                "\u0000\u0000\u0000\u0000 7 00:55:0\n" +
                "Dec  7 00:55:09 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <w@e.example>: Relay access denied\n" +
                "Dec  7 00:55:10 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from unknown[not-an-ip]: 554 5.7.1 <w@e.example>: Relay access denied; from=<s@b.example> to=<w@e.example> proto=ESMTP helo=<b.example>\n" +
                "Dec  7 00:55:11 mx1 dovecot[900]: imap-login: Login: user=<alice>\n" +
                "Dec  7 00:55:12 mx1 postfix/smtpd[4117]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <x@e.example>: Relay access denied; from=<s@b.example> to=<x@e.example> proto=ESMTP helo=<b.example>\n",
                new TrafficLogOptions { Year = 2026, TimeZone = TimeZoneInfo.Utc, Stats = stats, Skipped = seen.Add });

            Assert.Equal(new[] { "<v@e.example>", "<x@e.example>" }, records.Select(r => r.To).ToArray());
            Assert.Equal(3, stats.Skipped);
            Assert.Equal(2, stats.Records);
            Assert.Equal(new long[] { 2, 3, 4 }, stats.SkippedSamples.Select(s => s.LineNumber).ToArray());
            Assert.Equal(new long[] { 2, 3, 4 }, seen.Select(s => s.LineNumber).ToArray());
        }

        [Fact]
        public void Traditional_stamps_go_into_the_next_year_where_the_months_wrap()
        {
            var records = Read(
                "Dec 31 23:59:58 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <a@e.example>: no; from=<s@b.example> to=<a@e.example> proto=ESMTP helo=<b>\n" +
                "Jan  1 00:00:01 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <b@e.example>: no; from=<s@b.example> to=<b@e.example> proto=ESMTP helo=<b>\n" +
                "Dec 31 23:59:59 mx1 postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <c@e.example>: no; from=<s@b.example> to=<c@e.example> proto=ESMTP helo=<b>\n" +
                "Jan  1 00:00:02 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <d@e.example>: no; from=<s@b.example> to=<d@e.example> proto=ESMTP helo=<b>\n");

            Assert.Equal(new[] { 2026, 2027, 2026, 2027 }, records.Select(r => r.Time.Year).ToArray());
        }

        [Fact]
        public void Without_a_year_a_December_log_read_in_January_is_last_years()
        {
            var r = Assert.Single(Read(
                "Dec 30 10:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <a@e.example>: no; from=<s@b.example> to=<a@e.example> proto=ESMTP helo=<b>\n",
                new TrafficLogOptions { TimeZone = TimeZoneInfo.Utc, Now = new DateTimeOffset(2027, 1, 2, 9, 0, 0, TimeSpan.Zero) }));
            Assert.Equal(new DateTimeOffset(2026, 12, 30, 10, 0, 0, TimeSpan.Zero), r.Time);
        }

        [Fact]
        public void Traditional_stamps_are_read_in_the_zone_given()
        {
            var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
            var r = Assert.Single(Read(
                "Jul  7 12:00:00 mx1 postfix/smtpd[1]: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 <a@e.example>: no; from=<s@b.example> to=<a@e.example> proto=ESMTP helo=<b>\n",
                new TrafficLogOptions { Year = 2026, TimeZone = berlin }));
            Assert.Equal(new DateTimeOffset(2026, 7, 7, 10, 0, 0, TimeSpan.Zero), r.Time);
            Assert.Equal(TimeSpan.Zero, r.Time.Offset);
        }

        [Fact]
        public void Pending_messages_are_bounded_and_the_oldest_is_dropped()
        {
            string In(string qid, string ip) =>
                "Dec  7 03:10:01 mx1 postfix/smtpd[5001]: " + qid + ": client=unknown[" + ip + "]\n" +
                "Dec  7 03:10:01 mx1 postfix/qmgr[1877]: " + qid + ": from=<s@b.example>, size=1, nrcpt=1 (queue active)\n";
            string Out(string qid) =>
                "Dec  7 03:10:02 mx1 postfix/smtp[5011]: " + qid + ": to=<r@far.example>, relay=none, delay=1, delays=1/0/0/0, dsn=4.4.1, status=deferred (timeout)\n";
            var stats = new TrafficLogStats();

            var records = Read(In("AAAAA1", "198.51.100.1") + In("AAAAA2", "198.51.100.2") + In("AAAAA3", "198.51.100.3")
                               + Out("AAAAA1") + Out("AAAAA2") + Out("AAAAA3"),
                               new TrafficLogOptions { Year = 2026, TimeZone = TimeZoneInfo.Utc, MaxPendingMessages = 2, Stats = stats });

            Assert.Equal(new[] { "198.51.100.2", "198.51.100.3" }, records.Select(r => r.ClientAddress).ToArray());
            Assert.Equal(1, stats.Evicted);
        }
    }
}
