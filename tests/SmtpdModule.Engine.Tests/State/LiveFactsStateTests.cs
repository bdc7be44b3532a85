using System;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A store handed to the live facts is what a check reads, and the read is recorded and replayed.</summary>
    public class LiveFactsStateTests
    {
        [Fact]
        public async Task A_check_reads_the_store_through_the_facts_and_a_replay_answers_the_same()
        {
            var store = new MemoryStateStore(clock: new FakeClock());
            await store.SetAsync("greylist/192.0.2.1", "seen", TimeSpan.FromHours(1));
            var recorder = new FactRecorder(new LiveFacts(null, null, store));

            Assert.Equal("seen", await recorder.ReadStateAsync("greylist/192.0.2.1"));
            Assert.Null(await recorder.ReadStateAsync("greylist/192.0.2.2"));

            await store.RemoveAsync("greylist/192.0.2.1");   // the store moves on; the record does not
            var replay = new RecordedFacts(recorder.Facts);
            Assert.Equal("seen", await replay.ReadStateAsync("greylist/192.0.2.1"));
            Assert.Null(await replay.ReadStateAsync("greylist/192.0.2.2"));
            Assert.Empty(replay.Unrecorded);
        }

        [Fact]
        public async Task Without_a_store_the_facts_read_as_an_empty_store()
        {
            var facts = new LiveFacts(null, null, (IStateStore)null);
            Assert.Null(await facts.ReadStateAsync("anything"));
            Assert.Equal(DnsStatus.Failed, (await facts.QueryAsync("a.test", DnsRecordType.A)).Status);
        }
    }
}
