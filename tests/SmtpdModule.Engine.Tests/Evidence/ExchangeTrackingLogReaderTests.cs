using System;
using System.IO;
using System.Linq;
using SmtpdModule.Engine.Evidence;
using SmtpdModule.Engine.Policy;
using Xunit;

namespace SmtpdModule.Engine.Tests.Evidence
{
    /// <summary>
    /// Exchange's message tracking log as decision records: each SMTP RECEIVE gives one accepted
    /// RCPT per recipient; columns come from the #Fields header in force. The excerpts are written
    /// for the tests in the shape Exchange 2016/2019 writes (CRLF lines, a BOM, comma-separated #Fields).
    /// </summary>
    public class ExchangeTrackingLogReaderTests
    {
        const string Header =
            "\uFEFF#Software: Microsoft Exchange Server\r\n" +
            "#Version: 15.02.1544.004\r\n" +
            "#Log-type: Message Tracking Log\r\n" +
            "#Date: 2026-12-07T00:00:00.101Z\r\n" +
            "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version\r\n";

        const string Receive =
            "2026-12-07T00:55:07.123Z,192.0.2.10,mail.partner.example,192.0.2.25,EX01,08DE3A11C2F0B7A4;2026-12-07T00:55:06.800Z;0,EX01\\Default Frontend EX01,SMTP,RECEIVE,51539607553,<n1@partner.example>,6f0c2a1e-7b7d-4c1b-9d7e-1a2b3c4d5e6f,alice@example.test;bob@example.test,,18342,2,,,\"Quarterly figures, \"\"final\"\", v2\",Partner News <news@partner.example>,bounces+77@partner.example,2026-12-07T00:55:07.001Z;SRV=EX01.example.test:TOTAL-FE=0.310,Incoming,,192.0.2.10,192.0.2.25,,Email,6f0c2a1e-7b7d-4c1b-9d7e-1a2b3c4d5e6f,15.02.1544.004\r\n";

        const string StoreDriver =
            "2026-12-07T00:55:08.002Z,,,,EX01,MDB:0f9a1c4e-4b52-4c3c-9d0a-2b3c4d5e6f70,,STOREDRIVER,RECEIVE,51539607560,<s1@example.test>,0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b,carol@example.test,,2210,1,,,\"Lunch, anyone?\",dave@example.test,dave@example.test,,Originating,,10.0.0.31,,,Email,0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b,15.02.1544.004\r\n" +
            "2026-12-07T00:55:08.410Z,,,,EX01,MDB:0f9a1c4e-4b52-4c3c-9d0a-2b3c4d5e6f70,,STOREDRIVER,DELIVER,51539607553,<n1@partner.example>,6f0c2a1e-7b7d-4c1b-9d7e-1a2b3c4d5e6f,alice@example.test,,19874,1,,,\"Quarterly figures, \"\"final\"\", v2\",news@partner.example,bounces+77@partner.example,,Incoming,,,,,Email,6f0c2a1e-7b7d-4c1b-9d7e-1a2b3c4d5e6f,15.02.1544.004\r\n";

        static DecisionRecord[] Read(string log, TrafficLogOptions options = null) =>
            ExchangeTrackingLogReader.Read(new StringReader(log), options).ToArray();

        [Fact]
        public void An_SMTP_RECEIVE_gives_one_accepted_RCPT_per_recipient_with_the_envelope_sender()
        {
            var records = Read(Header + Receive + StoreDriver);

            Assert.Equal(new[] { "<alice@example.test>", "<bob@example.test>" }, records.Select(r => r.To).ToArray());
            foreach (var r in records)
            {
                Assert.Equal(new DateTimeOffset(2026, 12, 7, 0, 55, 7, 123, TimeSpan.Zero), r.Time);
                Assert.Equal(PolicyStage.Rcpt, r.Stage);
                Assert.Equal(VerdictKind.Continue, r.Kind);
                Assert.Equal(new[] { "250 2.1.5 Recipient OK" }, r.Replies);
                Assert.Equal("<bounces+77@partner.example>", r.From);   // return-path, not the From: header
                Assert.Equal("192.0.2.10", r.ClientAddress);
                // client-hostname is the EHLO name: unconfirmed, so no client name and no reverse facts.
                Assert.Equal("mail.partner.example", r.Helo);
                Assert.Null(r.ClientName);
                Assert.Empty(r.Facts);
                Assert.Equal("<n1@partner.example>", r.Session);
                Assert.Equal("imported from exchange", r.Reason);
                Assert.Equal("Imported", r.Basis);
            }
        }

        [Fact]
        public void A_later_Fields_header_changes_the_columns()
        {
            var reordered =
                "#Fields: event-id,source,date-time,recipient-address,return-path,client-ip,client-hostname,message-id\r\n" +
                "RECEIVE,SMTP,2026-12-07T01:00:00.000Z,\"erin@example.test\",<>,203.0.113.5,mx.bulk.example,<b1@bulk.example>\r\n";

            var records = Read(Header + Receive + reordered);

            Assert.Equal(3, records.Length);
            var last = records[2];
            Assert.Equal("<erin@example.test>", last.To);
            Assert.Equal("<>", last.From);
            Assert.Equal("203.0.113.5", last.ClientAddress);
            Assert.Equal("mx.bulk.example", last.Helo);
            Assert.Equal(new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero), last.Time);
        }

        [Fact]
        public void Without_return_path_the_sender_address_column_stands_in()
        {
            var old =
                "#Fields: date-time,client-ip,client-hostname,source,event-id,message-id,recipient-address,sender-address\r\n" +
                "2026-12-07T01:00:00.000Z,203.0.113.5,mx.bulk.example,SMTP,RECEIVE,<b1@bulk.example>,erin@example.test,promo@bulk.example\r\n";
            Assert.Equal("<promo@bulk.example>", Assert.Single(Read(old)).From);
        }

        [Fact]
        public void A_front_end_hop_is_read_as_the_original_client()
        {
            var hop =
                "#Fields: date-time,client-ip,client-hostname,source,event-id,message-id,recipient-address,return-path,original-client-ip\r\n" +
                "2026-12-07T01:00:00.000Z,10.0.0.25,EX01.corp.example.test,SMTP,RECEIVE,<b1@bulk.example>,erin@example.test,promo@bulk.example,203.0.113.5\r\n" +
                "2026-12-07T01:00:01.000Z,10.0.0.31,app01.corp.example.test,SMTP,RECEIVE,<a1@example.test>,erin@example.test,app@example.test,10.0.0.31\r\n";
            var records = Read(hop);
            Assert.Equal("203.0.113.5", records[0].ClientAddress);
            Assert.Null(records[0].Helo);
            Assert.Equal("10.0.0.31", records[1].ClientAddress);
            Assert.Equal("app01.corp.example.test", records[1].Helo);
        }

        [Fact]
        public void Rows_that_cannot_be_read_are_counted_and_passed_over()
        {
            var stats = new TrafficLogStats();
            var log =
                "2026-12-07T00:50:00.000Z,192.0.2.10,x,SMTP,RECEIVE\r\n" +   // before any #Fields
                Header +
                "2026-12-07T00:51:00.000Z,192.0.2.10,mail.partner.example,192.0.2.25,EX01,ctx,conn,SMTP,RECEIVE,1,<m@p>,id,\"alice@example.test,\r\n" +
                "2026-12-07T00:52:00.000Z,not-an-address,mail.partner.example,192.0.2.25,EX01,ctx,conn,SMTP,RECEIVE,1,<m@p>,id,alice@example.test\r\n" +
                Receive;

            var records = Read(log, new TrafficLogOptions { Stats = stats });

            Assert.Equal(2, records.Length);
            Assert.Equal(3, stats.Skipped);
            Assert.Equal(new long[] { 1, 7, 8 }, stats.SkippedSamples.Select(s => s.LineNumber).ToArray());
        }

        [Fact]
        public void An_agent_log_is_refused_with_the_reason()
        {
            var agent = "#Software: Microsoft Exchange Server\r\n#Version: 15.0.0.0\r\n#Log-type: Agent Log\r\n#Fields: Timestamp,SessionId,IP,MessageId,P1FromAddress,P2FromAddresses,Recipients,Agent,Event,Action\r\n";
            var ex = Assert.Throws<FormatException>(() => Read(agent));
            Assert.Contains("agent log", ex.Message);
        }
    }
}
