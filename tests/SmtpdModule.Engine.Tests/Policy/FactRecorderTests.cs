using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>The recorder keeps one answer per question, bounded, and a recording answers as the network did.</summary>
    public class FactRecorderTests
    {
        [Fact]
        public async Task Keeps_the_latest_answer_to_each_question_and_no_more_than_its_limit()
        {
            var dns = new FactDnsResolver();
            for (int i = 0; i < FactRecorder.Limit + 10; i++) dns.A("h" + i + ".test", "192.0.2." + (i % 250));
            var recorder = new FactRecorder(new LiveFacts(dns));

            for (int i = 0; i < FactRecorder.Limit + 10; i++) await recorder.QueryAsync("h" + i + ".test", DnsRecordType.A);
            await recorder.QueryAsync("h" + (FactRecorder.Limit + 9) + ".test", DnsRecordType.A);   // asked again: one fact, not two

            var facts = recorder.Facts;
            Assert.Equal(FactRecorder.Limit, facts.Count);
            Assert.Equal("h10.test", facts[0].Name);   // the oldest went first
            Assert.Single(facts, f => f.Name == "h" + (FactRecorder.Limit + 9) + ".test");
        }

        [Fact]
        public async Task A_recording_answers_every_kind_of_question_as_the_source_did()
        {
            var dns = new FactDnsResolver().A("a.test", "192.0.2.1").Failing("down.test");
            var live = new LiveFacts(dns, new FixedIdentSource(IdentAnswer.Of("alice")), (key, _) => Task.FromResult(key == "k" ? "v" : null));
            var recorder = new FactRecorder(live);
            var a = await recorder.QueryAsync("a.test", DnsRecordType.A);
            var down = await recorder.QueryAsync("down.test", DnsRecordType.A);
            var missing = await recorder.QueryAsync("none.test", DnsRecordType.A);
            var ident = await recorder.QueryAsync();
            var k = await recorder.ReadStateAsync("k");
            var other = await recorder.ReadStateAsync("other");

            var replay = new RecordedFacts(recorder.Facts);
            Assert.Equal(a.Values, (await replay.QueryAsync("A.TEST", DnsRecordType.A)).Values);   // names compare without case, as DNS does
            Assert.Equal(down.Status, (await replay.QueryAsync("down.test", DnsRecordType.A)).Status);
            Assert.Equal(missing.Status, (await replay.QueryAsync("none.test", DnsRecordType.A)).Status);
            Assert.Equal(ident.User, (await replay.QueryAsync()).User);
            Assert.Equal(k, await replay.ReadStateAsync("k"));
            Assert.Equal(other, await replay.ReadStateAsync("other"));
            Assert.Empty(replay.Unrecorded);

            Assert.Equal(DnsStatus.Failed, (await replay.QueryAsync("a.test", DnsRecordType.AAAA)).Status);
            Assert.Equal(new[] { "Dns a.test AAAA" }, replay.Unrecorded.ToArray());
        }
    }
}
