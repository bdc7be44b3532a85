using System;
using System.Collections.Generic;
using System.Linq;
using SmtpdModule.Engine.Evidence.Report;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using Xunit;
using static SmtpdModule.Engine.Tests.Evidence.Report.ReportEvents;

namespace SmtpdModule.Engine.Tests.Evidence.Report
{
    /// <summary>The report counts what the log says, each thing once, in the interval it happened,
    /// and nothing outside its window.</summary>
    public sealed class TrafficReportBuilderTests
    {
        static readonly TimeSpan M = TimeSpan.FromMinutes(1);

        static TrafficReportBuilder Builder(int minutes = 10, TimeSpan? interval = null) =>
            new TrafficReportBuilder(new TrafficReportOptions(T0, T0 + TimeSpan.FromMinutes(minutes), interval ?? M));

        [Fact]
        public void Counts_each_event_in_its_interval_and_none_outside_the_window()
        {
            var b = Builder();
            b.Add(At(TimeSpan.Zero, "accepted", "s1", "192.0.2.1", F("id", "m1"), F("bytes", 100L)));          // the window's first instant
            b.Add(At(TimeSpan.FromSeconds(119.999), "accepted", "s2", "192.0.2.1", F("id", "m2"), F("bytes", 50L)));
            b.Add(At(TimeSpan.FromMinutes(10), "accepted", "s3", "192.0.2.1", F("id", "m3"), F("bytes", 7L)));   // the end: outside
            b.Add(At(TimeSpan.FromMinutes(-1), "accepted", "s4", "192.0.2.1", F("id", "m4"), F("bytes", 7L)));   // before: outside
            var r = b.Build();
            Assert.Equal(2, r.MessagesAccepted);
            Assert.Equal(150, r.BytesAccepted);
            Assert.Equal(10, r.Buckets.Count);
            Assert.Equal(new long[] { 1, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, r.Buckets.Select(x => x.Accepted).ToArray());
            Assert.Equal(T0 + TimeSpan.FromMinutes(9), r.Buckets[9].Start);
            Assert.Equal(T0 + TimeSpan.FromMinutes(10), r.Buckets[9].End);
        }

        [Fact]
        public void The_last_interval_is_cut_short_by_the_window()
        {
            var b = new TrafficReportBuilder(new TrafficReportOptions(T0, T0 + TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(3)));
            b.Add(At(TimeSpan.FromMinutes(9.5), "accepted", "s", "192.0.2.1", F("id", "m")));
            var r = b.Build();
            Assert.Equal(4, r.Buckets.Count);
            Assert.Equal(TimeSpan.FromMinutes(1), r.Buckets[3].End - r.Buckets[3].Start);
            Assert.Equal(1, r.Buckets[3].Accepted);
        }

        [Fact]
        public void Refusals_by_outcome_reason_line_client_and_sender()
        {
            var b = Builder();
            b.Add(Decision(M, "s1", "192.0.2.1", VerdictKind.Continue, null, 4, "allow:ALL:ALL:*@example.test"));
            b.Add(Decision(M, "s2", "192.0.2.2", VerdictKind.Reject, "550 no", 1, "noto:RBL.bl.test:ALL:ALL"));
            b.Add(Decision(M, "s3", "192.0.2.2", VerdictKind.Close, "554 go away", 2, "deny:ALL:*@spam.test:ALL", from: "<x@spam.test>", action: "Deny"));
            b.Add(Decision(M, "s4", "192.0.2.3", VerdictKind.TempFail, "450 later", 3, "grey:ALL:ALL:ALL", results: new Dictionary<string, string> { ["grey"] = "FirstSeen n:192.0.2.0/24" }));
            b.Add(Decision(M, "s5", "192.0.2.4", VerdictKind.Close, "421 4.3.2 closing", 2, "deny:ALL:*@spam.test:ALL", action: "Deny"));   // a 4xx close defers
            b.Add(Decision(M, "s6", "192.0.2.5", VerdictKind.Reject, "550 5.1.1 unknown", 4, "allow:ALL:ALL:*@example.test", basis: "RecipientVerification",
                           results: new Dictionary<string, string> { ["verify"] = "ldap: Unavailable (timeout) -> list: Unknown (no entry)" }));
            b.Add(Decision(M, "s7", "192.0.2.6", VerdictKind.TempFail, "451 4.4.3 try later", null, null, basis: "LookupFailure"));
            b.Add(At(M, "rejected", "s8", "192.0.2.7"));
            b.Add(At(M, "limit", null, "192.0.2.8:4000"));
            var r = b.Build();

            Assert.Equal(1, r.RecipientsAccepted);
            Assert.Equal(4, r.Refused);     // RBL, deny 5xx, unknown user, DATA
            Assert.Equal(4, r.Deferred);    // grey, 4xx close, lookup failure, limit
            var reasons = r.RefusalsByReason.ToDictionary(c => c.Key, c => c.Count);
            Assert.Equal(1, reasons["DNSBL listing"]);
            Assert.Equal(2, reasons["Rule: deny"]);
            Assert.Equal(1, reasons["Greylisting"]);
            Assert.Equal(1, reasons["Unknown recipient (verification)"]);
            Assert.Equal(1, reasons["DNS lookup failed"]);
            Assert.Equal(1, reasons["Message refused after DATA"]);
            Assert.Equal(1, reasons["Rate or session limit"]);
            var deny = Assert.Single(r.RefusalsByLine, l => l.Line == 2);
            Assert.Equal(1, deny.Refused);
            Assert.Equal(1, deny.Deferred);
            Assert.Equal("192.0.2.2", r.TopClients[0].Key);
            Assert.Equal(2, r.TopClients[0].Count);
            Assert.Equal("mx.example.org", r.TopClients[0].Detail);
            Assert.Contains(r.TopSenders, c => c.Key == "<x@spam.test>" && c.Count == 1);
            Assert.Equal(1, Assert.Single(r.Greylisting).Count);
            var verified = Assert.Single(r.Verification);
            Assert.Equal("Unknown", verified.Key);
            Assert.Equal("list", verified.Detail);   // the last source tried answered
        }

        [Fact]
        public void A_dnsbl_counts_each_session_once_and_an_error_answer_as_no_answer()
        {
            Fact Dns(string name, string status, params string[] values) =>
                new Fact(FactKind.Dns, name, DnsRecordType.A, status, values, null, 60);
            var b = Builder();
            var listed = new[] { Dns("1.2.0.192.in-addr.arpa", "Ok"), Dns("1.2.0.192.bl.test", "Ok", "127.0.0.2") };
            b.Add(Decision(M, "s1", "192.0.2.1", VerdictKind.Reject, "550 listed", 1, "noto:RBL.bl.test:ALL:ALL", facts: listed));
            b.Add(Decision(M, "s1", "192.0.2.1", VerdictKind.Reject, "550 listed", 1, "noto:RBL.bl.test:ALL:ALL", facts: listed));   // same session
            b.Add(Decision(M, "s2", "192.0.2.2", VerdictKind.Continue, null, 4, "allow:ALL:ALL:ALL", facts: new[] { Dns("2.2.0.192.bl.test", "NameError") }));
            b.Add(Decision(M, "s3", "192.0.2.3", VerdictKind.Continue, null, 4, "allow:ALL:ALL:ALL", facts: new[] { Dns("3.2.0.192.bl.test", "Ok", "127.255.255.254") }));
            b.Add(Decision(M, "s4", "2001:db8::1", VerdictKind.Continue, null, 4, "allow:ALL:ALL:ALL",
                           facts: new[] { Dns(ReverseNames.DnsblName(System.Net.IPAddress.Parse("2001:db8::1"), "bl.test"), "Failed") }));
            b.Add(At(TimeSpan.FromMinutes(2), "dnsbl", null, null, F("zone", "bl.test"), F("status", "ListsEverything")));
            b.Add(At(TimeSpan.FromMinutes(3), "dnsbl", null, null, F("zone", "bl.test"), F("status", "Healthy")));
            var zone = Assert.Single(b.Build().Dnsbl);
            Assert.Equal("bl.test", zone.Zone);
            Assert.Equal(4, zone.Checked);
            Assert.Equal(1, zone.Listed);
            Assert.Equal(2, zone.Failed);
            Assert.Equal("Healthy", zone.Health);
            Assert.Equal(T0 + TimeSpan.FromMinutes(3), zone.HealthSince);
            Assert.Equal(2, zone.HealthChanges);
        }

        [Theory]
        [InlineData(false)]
        [InlineData(true)]
        public void A_delivery_wait_pairs_acceptance_and_delivery_in_either_order(bool forwarderFirst)
        {
            var b = Builder();
            var events = new[]
            {
                At(TimeSpan.FromSeconds(10), "accepted", "s1", "192.0.2.1", F("id", "m1")),
                At(TimeSpan.FromSeconds(20), "accepted", "s2", "192.0.2.1", F("id", "m2")),
                At(TimeSpan.FromSeconds(40), "forwarded", "m1", null, F("delivered", 2L)),
                At(TimeSpan.FromSeconds(50), "deferred", "m2", null, F("delivered", 0L)),
                At(TimeSpan.FromSeconds(140), "failed", "m2", null, F("delivered", 1L), F("bounce", "b1")),
            };
            foreach (var e in forwarderFirst ? events.Reverse() : events) b.Add(e);
            var r = b.Build();
            Assert.Equal(3, r.RecipientsDelivered);
            Assert.Equal(1, r.Forwarded);
            Assert.Equal(1, r.DeliveryDeferred);
            Assert.Equal(1, r.DeliveryFailed);
            Assert.Equal(1, r.Bounces);
            Assert.Equal(2, r.DeliveryDelay.Count);
            Assert.Equal(30, r.DeliveryDelay.Median);
            Assert.Equal(120, r.DeliveryDelay.Maximum);
            Assert.Equal(new long[] { 2, 0, 1 }, r.Buckets.Take(3).Select(x => x.Delivered).ToArray());
        }
    }
}
