using System;
using System.IO;
using System.Threading.Tasks;
using SmtpdModule.Engine.State;
using Xunit;

namespace SmtpdModule.Engine.Tests.State
{
    /// <summary>A journal write that fails half-way (a full disk) fails its operation, stops
    /// further writes so nothing follows the broken record, and a compaction from memory
    /// brings the store back.</summary>
    public sealed class FileStateStoreFaultTests : IDisposable
    {
        readonly TempStateFolder _folder = new TempStateFolder();

        public void Dispose() => _folder.Dispose();

        [Fact]
        public async Task A_failed_append_refuses_writes_until_a_compaction_rewrote_the_journal()
        {
            var clock = new FakeClock();
            var options = new FileStateStoreOptions { Clock = clock, SyncInterval = TimeSpan.FromMilliseconds(20) };
            using (var store = new FileStateStore(_folder.Path, options))
            {
                Exception reported = null;
                store.BackgroundError += (_, e) => reported = e.GetException();
                await store.SetAsync("before", "1", null);
                var full = new IOException("No space left on device");

                // Hold the compaction that would repair it at its first step, to see the refusal.
                var held = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                var holding = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                store.CompactionStepHook = step =>
                {
                    if (step != CompactionStep.Copied) return;
                    holding.TrySetResult(true);
                    held.Task.Wait();
                };
                store.BreakJournalForTests(full);

                var e = await Assert.ThrowsAsync<IOException>(() => store.SetAsync("failed", "2", null));
                Assert.Same(full, e.InnerException);
                await holding.Task;
                Assert.Same(full, store.Fault);
                var refused = await Assert.ThrowsAsync<IOException>(() => store.IncrementAsync("n", 1, TimeSpan.FromMinutes(1)));
                Assert.Same(full, refused.InnerException);
                Assert.Equal("1", await store.GetAsync("before"));   // reads go on

                held.SetResult(true);
                await store.WhenIdleAsync();
                Assert.Null(store.Fault);
                Assert.Equal(1, store.Compactions);
                Assert.Null(reported);
                await store.SetAsync("after", "3", null);
            }
            using (var store = new FileStateStore(_folder.Path, options))
            {
                Assert.Equal(StateJournalDamage.None, store.Recovery.Damage);
                Assert.Equal("1", await store.GetAsync("before"));
                Assert.Equal("2", await store.GetAsync("failed"));   // it took effect in memory; the rewrite kept it
                Assert.Null(await store.GetAsync("n"));
                Assert.Equal("3", await store.GetAsync("after"));
            }
        }

        [Fact]
        public async Task A_crash_while_writes_are_refused_leaves_a_journal_cut_at_the_broken_record()
        {
            var clock = new FakeClock();
            using (var store = new FileStateStore(_folder.Path, new FileStateStoreOptions { Clock = clock }))
            {
                await store.SetAsync("before", "1", null);
                store.CompactionStepHook = _ => throw new IOException("disk still full");
                store.BreakJournalForTests(new IOException("No space left on device"));
                await Assert.ThrowsAsync<IOException>(() => store.SetAsync("failed", "2", null));
                await store.WhenIdleAsync();
                Assert.NotNull(store.Fault);
                // The process dies here: copy the files as they are, lock aside.
                Directory.CreateDirectory(_folder.Path + "-copy");
                File.Copy(_folder.Journal, Path.Combine(_folder.Path + "-copy", FileStateStore.JournalFileName));
            }
            try
            {
                using var reopened = new FileStateStore(_folder.Path + "-copy", new FileStateStoreOptions { Clock = clock });
                Assert.Equal(StateJournalDamage.TornTail, reopened.Recovery.Damage);
                Assert.Equal("1", await reopened.GetAsync("before"));
                Assert.Null(await reopened.GetAsync("failed"));
            }
            finally
            {
                Directory.Delete(_folder.Path + "-copy", recursive: true);
            }
        }
    }
}
