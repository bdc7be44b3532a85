using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>Each recipient's provenance (rules hash, deciding line, checks) in the envelope header.</summary>
    public class EnvelopeProvenanceTests
    {
        const string Id = "20250102T030405-abcdefghijklmnopqrstuvwx";
        const string Sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

        static KeyValuePair<string, string> C(string name, string value) => new KeyValuePair<string, string>(name, value);

        static Envelope Sample(params RecipientProvenance[] provenance)
        {
            var e = TempSpool.NewEnvelope(provenance.Select((_, i) => "<r" + i + "@example.com>").ToArray());
            e.Id = Id;
            for (var i = 0; i < provenance.Length; i++) e.Recipients[i].Provenance = provenance[i];
            return e;
        }

        static string WriteText(Envelope e)
        {
            var w = new StringWriter();
            EnvelopeSerializer.Write(w, e);
            return w.ToString();
        }

        static Envelope Read(string text) => EnvelopeSerializer.Read(new StringReader(text));

        [Fact]
        public void Writes_hash_line_rule_and_checks_as_recipient_parameters_after_the_status()
        {
            var e = Sample(new RecipientProvenance(Sha, 3, "allow:ALL:ALL:*@example.com", null,
                                                   new[] { C("reverse", "Found"), C("spf", "pass") }));
            e.Recipients[0].Status = RecipientStatus.Delivered;
            e.Recipients[0].ExtraParameters.Add(C("attempts", "2"));

            var line = WriteText(e).Split('\n').Single(l => l.StartsWith("rcpt:", StringComparison.Ordinal));

            Assert.Equal("rcpt: <r0@example.com>; status=delivered; rules-sha256=" + Sha + "; rule-line=3; rule=allow:ALL:ALL:*@example.com"
                         + "; check-reverse=Found; check-spf=pass; attempts=2", line);
        }

        [Fact]
        public void Round_trip_keeps_each_recipients_own_provenance_and_the_unknown_parameters()
        {
            var e = Sample(new RecipientProvenance(Sha, 3, "allow:ALL:ALL:a@example.com", null, new[] { C("spf", "pass"), C("grey", "Passed n:192.0.2.0/24") }),
                           new RecipientProvenance(Sha, null, null, "DefaultNoMatch", null),
                           null);
            e.Recipients[1].ExtraParameters.Add(C("next-attempt", "later"));

            var back = Read(WriteText(e));

            var first = back.Recipients[0].Provenance;
            Assert.Equal(Sha, first.RulesSha256);
            Assert.Equal(3, first.Line);
            Assert.Equal("allow:ALL:ALL:a@example.com", first.Rule);
            Assert.Null(first.Basis);
            Assert.Equal(new[] { C("spf", "pass"), C("grey", "Passed n:192.0.2.0/24") }, first.Checks);
            var second = back.Recipients[1].Provenance;
            Assert.Null(second.Line);
            Assert.Null(second.Rule);
            Assert.Equal("DefaultNoMatch", second.Basis);
            Assert.Empty(second.Checks);
            Assert.Equal(new[] { C("next-attempt", "later") }, back.Recipients[1].ExtraParameters);
            Assert.Null(back.Recipients[2].Provenance);
            Assert.Equal(WriteText(e), WriteText(back));
        }

        [Theory]
        [InlineData("noto:ALL:ALL:x@example.com:550 no; really; go away:comment; with = signs")]
        [InlineData("allow:ALL:ALL:ALL  ")]                       // trailing spaces: an editor could trim them
        [InlineData("  allow:ALL:ALL:ALL")]                       // leading spaces: not taken for the separator's
        [InlineData("allow:ALL:ALL:100%@example.com %3B %zz")]    // what looks like an escape already
        [InlineData("allow:ALL:ALL:ünïcødé@例え.jp")]
        [InlineData("allow:\r\nrcpt: <evil@example.com>\n\nbody")] // line breaks that would forge a recipient or end the header
        [InlineData("a\u0000b\u0007c\u007fd\te")]
        public void A_hostile_rule_or_check_value_stays_on_its_line_and_comes_back_unchanged(string hostile)
        {
            var e = Sample(new RecipientProvenance(Sha, 7, hostile, null, new[] { C("spf", hostile), C("verify", "; status=delivered") }),
                           new RecipientProvenance(Sha, 8, "allow:ALL:ALL:ALL", null, null));

            var text = WriteText(e);
            var back = Read(text);

            // Two recipient lines, the header's end where it belongs, and nobody delivered by a value.
            Assert.Equal(2, text.Split('\n').Count(l => l.StartsWith("rcpt:", StringComparison.Ordinal)));
            Assert.EndsWith("smtputf8: false\n\n", text);
            Assert.Equal(2, back.Recipients.Count);
            Assert.All(back.Recipients, r => Assert.Equal(RecipientStatus.Pending, r.Status));
            Assert.Equal(hostile, back.Recipients[0].Provenance.Rule);
            Assert.Equal(hostile, back.Recipients[0].Provenance.Check("spf"));
            Assert.Equal("; status=delivered", back.Recipients[0].Provenance.Check("verify"));
            Assert.Equal(8, back.Recipients[1].Provenance.Line);
        }

        [Theory]
        [InlineData("rules-sha256=ABC", "a hash that is not 64 lower-case hex digits")]
        [InlineData("rules-sha256=" + Sha + "; rules-sha256=" + Sha, "a hash twice")]
        [InlineData("rule-line=0", "line 0")]
        [InlineData("rule-line=-1", "a negative line")]
        [InlineData("rule-line=07", "a leading zero")]
        [InlineData("rule-line=1234567890", "a line beyond int")]
        [InlineData("rule-line=3; rule-line=4", "two lines")]
        [InlineData("rule=a; rule=b", "two rules")]
        [InlineData("basis=Default NoMatch", "a basis that is not a word")]
        [InlineData("check-=x", "a check without a name")]
        [InlineData("check-spf=pass; check-spf=fail", "one check twice")]
        public void Malformed_provenance_is_corrupt(string parameters, string why)
        {
            var text = WriteText(Sample(new RecipientProvenance(null, null, null, null, null)))
                .Replace("rcpt: <r0@example.com>", "rcpt: <r0@example.com>; " + parameters);
            var ex = Assert.Throws<SpoolException>(() => Read(text));
            Assert.True(ex.Reason == SpoolErrorReason.Corrupt, why);
        }

        [Fact]
        public void Extra_parameters_may_not_take_the_provenance_names()
        {
            foreach (var name in new[] { "rules-sha256", "rule-line", "rule", "basis", "check-spf" })
            {
                var e = Sample(new RecipientProvenance(null, null, null, null, null));
                e.Recipients[0].ExtraParameters.Add(C(name, "x"));
                Assert.Throws<ArgumentException>(() => EnvelopeSerializer.Write(new StringWriter(), e));
            }
        }

        [Fact]
        public void Provenance_refuses_values_it_could_not_write_back()
        {
            Assert.Throws<ArgumentException>(() => new RecipientProvenance("XYZ", null, null, null, null));
            Assert.Throws<ArgumentException>(() => new RecipientProvenance(null, 0, null, null, null));
            Assert.Throws<ArgumentException>(() => new RecipientProvenance(null, null, null, "two words", null));
            Assert.Throws<ArgumentException>(() => new RecipientProvenance(null, null, null, null, new[] { C("Spf", "pass") }));
            Assert.Throws<ArgumentException>(() => new RecipientProvenance(null, null, null, null, new[] { C("s;x", "pass") }));
        }

        [Fact]
        public async Task A_spooled_message_lists_each_recipients_provenance()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var e = TempSpool.NewEnvelope("<a@example.com>", "<b@example.com>");
            e.Recipients[0].Provenance = new RecipientProvenance(Sha, 2, "allow:ALL:ALL:a@example.com", null, new[] { C("spf", "pass") });
            e.Recipients[1].Provenance = new RecipientProvenance(Sha, 5, "allow:ALL:ALL:b@example.com", null, new[] { C("verify", "list: Known") });
            var message = writer.BeginMessage(e);
            message.Body.Write(new byte[] { (byte)'x', 13, 10 }, 0, 3);
            await writer.CommitAsync(message);

            var item = SpoolQueue.Open(spool.Root).Get(message.Id);

            Assert.Equal(new int?[] { 2, 5 }, item.Recipients.Select(r => r.Line));
            Assert.Equal(new[] { Sha, Sha }, item.Recipients.Select(r => r.RulesSha256));
            Assert.Equal("allow:ALL:ALL:b@example.com", item.Recipients[1].Rule);
            Assert.Equal("pass", item.Recipients[0].Checks["spf"]);
            Assert.Equal("list: Known", item.Recipients[1].Checks["VERIFY"]);
            Assert.False(item.Recipients[1].Checks.ContainsKey("spf"));
        }
    }
}
