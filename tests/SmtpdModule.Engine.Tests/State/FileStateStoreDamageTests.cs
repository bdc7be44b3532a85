using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A journal cut short or damaged opens with what came before the damage, says what
    /// it found, and goes on working; files a compaction left behind are settled by one rule.</summary>
    public sealed class FileStateStoreDamageTests : IDisposable
    {
        readonly FakeClock _clock = new FakeClock();
        readonly TempStateFolder _folder = new TempStateFolder();

        FileStateStore Open() => new FileStateStore(_folder.Path, new FileStateStoreOptions { Clock = _clock });

        public void Dispose() => _folder.Dispose();

        // Writes k0..k(n-1); returns the journal's length after each record (index 0: the header).
        async Task<long[]> WriteKeys(int n)
        {
            var ends = new long[n + 1];
            using (var store = Open())
            {
                ends[0] = store.JournalLength;
                for (int i = 0; i < n; i++)
                {
                    await store.SetAsync("k" + i, "value " + i, null);
                    ends[i + 1] = store.JournalLength;
                }
            }
            return ends;
        }

        [Fact]
        public async Task A_last_record_cut_at_any_byte_is_dropped_and_the_rest_kept()
        {
            var ends = await WriteKeys(3);
            var whole = File.ReadAllBytes(_folder.Journal);
            Assert.Equal(ends[3], whole.Length);

            for (long cut = ends[2]; cut < ends[3]; cut++)
            {
                File.WriteAllBytes(_folder.Journal, whole.Take((int)cut).ToArray());
                using (var store = Open())
                {
                    Assert.Equal(cut == ends[2] ? StateJournalDamage.None : StateJournalDamage.TornTail, store.Recovery.Damage);
                    Assert.Equal(ends[2], store.Recovery.ValidLength);
                    Assert.Equal(cut - ends[2], store.Recovery.DiscardedLength);
                    Assert.Equal(2, store.Recovery.Records);
                    Assert.Equal(ends[2], new FileInfo(_folder.Journal).Length);   // cut before anything follows
                    Assert.Equal("value 0", await store.GetAsync("k0"));
                    Assert.Equal("value 1", await store.GetAsync("k1"));
                    Assert.Null(await store.GetAsync("k2"));
                    await store.SetAsync("after", "cut " + cut, null);
                }
                using (var store = Open())
                {
                    Assert.Equal(StateJournalDamage.None, store.Recovery.Damage);
                    Assert.Equal("cut " + cut, await store.GetAsync("after"));
                    Assert.Equal(3, store.Count);
                }
            }
        }

        [Fact]
        public async Task Zeros_after_the_last_record_count_as_a_torn_tail()
        {
            var ends = await WriteKeys(2);
            using (var file = new FileStream(_folder.Journal, FileMode.Append))
                file.Write(new byte[4096], 0, 4096);
            using (var store = Open())
            {
                Assert.Equal(StateJournalDamage.TornTail, store.Recovery.Damage);
                Assert.Equal(ends[2], store.Recovery.ValidLength);
                Assert.Equal(2, store.Count);
            }
        }

        [Theory]
        [InlineData(0)]    // in the length
        [InlineData(5)]    // in the checksum
        [InlineData(8)]    // the record's kind
        [InlineData(20)]   // in the key or value
        public async Task A_changed_byte_stops_the_replay_there_says_so_and_keeps_the_store_usable(int offsetInRecord)
        {
            var ends = await WriteKeys(10);
            var bytes = File.ReadAllBytes(_folder.Journal);
            bytes[ends[5] + offsetInRecord] ^= 0x40;
            File.WriteAllBytes(_folder.Journal, bytes);

            using (var store = Open())
            {
                Assert.Equal(StateJournalDamage.Corrupt, store.Recovery.Damage);
                Assert.Equal(ends[5], store.Recovery.ValidLength);
                Assert.Equal(ends[10] - ends[5], store.Recovery.DiscardedLength);
                Assert.Equal(5, store.Recovery.Records);
                Assert.Contains("Corrupt", store.Recovery.ToString());
                for (int i = 0; i < 10; i++)
                    Assert.Equal(i < 5 ? "value " + i : null, await store.GetAsync("k" + i));
                await store.SetAsync("k7", "again", null);
            }
            using (var store = Open())
            {
                Assert.Equal(StateJournalDamage.None, store.Recovery.Damage);
                Assert.Equal("again", await store.GetAsync("k7"));
                Assert.Equal(6, store.Count);
            }
        }

        [Fact]
        public async Task A_new_file_left_beside_the_journal_is_an_unfinished_compaction_and_is_deleted()
        {
            await WriteKeys(2);
            File.WriteAllBytes(_folder.NewJournal, new byte[] { 1, 2, 3 });
            using (var store = Open())
            {
                Assert.Equal(2, store.Count);
                Assert.False(File.Exists(_folder.NewJournal));
            }
        }

        [Fact]
        public async Task A_new_file_without_a_journal_is_a_finished_compaction_and_becomes_the_journal()
        {
            await WriteKeys(2);
            File.Move(_folder.Journal, _folder.NewJournal);
            using (var store = Open())
            {
                Assert.Equal("value 1", await store.GetAsync("k1"));
                Assert.True(File.Exists(_folder.Journal));
                Assert.False(File.Exists(_folder.NewJournal));
            }
        }

        [Fact]
        public void A_file_that_is_not_a_journal_is_refused_and_left_alone()
        {
            Directory.CreateDirectory(_folder.Path);
            File.WriteAllText(_folder.Journal, "this is somebody's notes");
            Assert.Throws<InvalidDataException>(() => Open());
            Assert.Equal("this is somebody's notes", File.ReadAllText(_folder.Journal));
            File.Delete(_folder.Journal);
            Open().Dispose();   // the failed open let go of the lock
        }

        [Theory]
        [InlineData(0)]
        [InlineData(5)]
        public async Task A_journal_holding_part_of_a_header_starts_empty(int length)
        {
            Directory.CreateDirectory(_folder.Path);
            File.WriteAllBytes(_folder.Journal, System.Text.Encoding.ASCII.GetBytes("SMTPDSJ1").Take(length).ToArray());
            using (var store = Open())
            {
                Assert.Equal(StateJournalDamage.TornTail, store.Recovery.Damage);
                await store.SetAsync("k", "v", null);
            }
            using (var store = Open())
                Assert.Equal("v", await store.GetAsync("k"));
        }
    }
}
