using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class GroupCommitterTests
    {
        static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

        /// <summary>An fsync that signals when it starts and finishes only when released.</summary>
        sealed class GatedSync
        {
            public readonly SemaphoreSlim Started = new SemaphoreSlim(0);
            public readonly SemaphoreSlim Release = new SemaphoreSlim(0);
            public string Gated = "d";

            public void Sync(string directory)
            {
                if (directory != Gated) return;
                Started.Release();
                if (!Release.Wait(Deadline)) throw new TimeoutException("the test never released the fsync");
            }
        }

        [Fact]
        public async Task Callers_arriving_during_an_fsync_wait_for_the_next_one_and_share_it()
        {
            var counters = new SpoolCounters();
            var gate = new GatedSync();
            var committer = new GroupCommitter(gate.Sync, counters);

            var first = Task.Run(() => committer.FlushAsync("d"));           // runs fsync 1 on its own thread
            Assert.True(await gate.Started.WaitAsync(Deadline));            // fsync 1 is running
            var late = Enumerable.Range(0, 10).Select(_ => committer.FlushAsync("d")).ToArray();

            gate.Release.Release();                                          // fsync 1 ends
            await first;
            Assert.True(await gate.Started.WaitAsync(Deadline));            // fsync 2 runs for the late group
            Assert.All(late, t => Assert.False(t.IsCompleted));             // fsync 1 may predate their renames
            gate.Release.Release();
            await Task.WhenAll(late);

            Assert.Equal(11, counters.DirectorySyncRequests);
            Assert.Equal(2, counters.DirectoryFsyncs);
        }

        [Fact]
        public async Task Sequential_callers_get_one_fsync_each_on_their_own_thread()
        {
            var counters = new SpoolCounters();
            var caller = Environment.CurrentManagedThreadId;
            var threads = new System.Collections.Generic.List<int>();
            var committer = new GroupCommitter(_ => threads.Add(Environment.CurrentManagedThreadId), counters);
            for (var i = 0; i < 5; i++)
            {
                var flush = committer.FlushAsync("d");
                Assert.True(flush.IsCompletedSuccessfully, "nobody else was syncing: the fsync ran in the call");
                await flush;
            }
            Assert.Equal(5, counters.DirectoryFsyncs);
            Assert.All(threads, t => Assert.Equal(caller, t));   // no hand-off to the thread pool
        }

        [Fact]
        public async Task Directories_are_synced_independently()
        {
            var gate = new GatedSync();
            var committer = new GroupCommitter(gate.Sync, new SpoolCounters());
            var blocked = Task.Run(() => committer.FlushAsync("d"));
            Assert.True(await gate.Started.WaitAsync(Deadline));
            await committer.FlushAsync("other");                             // not held up by "d"
            Assert.False(blocked.IsCompleted);
            gate.Release.Release();
            await blocked;
        }

        [Fact]
        public async Task A_failed_fsync_fails_its_callers_and_the_next_round_tries_again()
        {
            var calls = 0;
            var committer = new GroupCommitter(_ =>
            {
                if (Interlocked.Increment(ref calls) == 1) throw new IOException("EIO", 5);
            }, new SpoolCounters());
            var failed = committer.FlushAsync("d");   // a faulted task, not an exception from the call
            var ex = await Assert.ThrowsAsync<IOException>(() => failed);
            Assert.Equal(5, ex.HResult);
            await committer.FlushAsync("d");
            Assert.Equal(2, calls);
        }

        [Fact]
        public async Task A_failed_shared_fsync_fails_the_whole_group_and_the_next_group_syncs_again()
        {
            var counters = new SpoolCounters();
            var gate = new GatedSync();
            var round = 0;
            var committer = new GroupCommitter(d =>
            {
                if (Interlocked.Increment(ref round) == 2) throw new IOException("EIO", 5);
                gate.Sync(d);
            }, counters);

            var first = Task.Run(() => committer.FlushAsync("d"));
            Assert.True(await gate.Started.WaitAsync(Deadline));
            var group = Enumerable.Range(0, 5).Select(_ => committer.FlushAsync("d")).ToArray();
            gate.Release.Release();
            await first;
            foreach (var t in group)
                Assert.Equal(5, (await Assert.ThrowsAsync<IOException>(() => t)).HResult);

            var after = Task.Run(() => committer.FlushAsync("d"));           // the directory is idle again
            Assert.True(await gate.Started.WaitAsync(Deadline));
            gate.Release.Release();
            await after;
            Assert.Equal(3, counters.DirectoryFsyncs);
        }

        [Fact]
        public async Task Many_callers_racing_all_complete_and_share_fsyncs()
        {
            var counters = new SpoolCounters();
            var inSync = 0;
            var committer = new GroupCommitter(_ =>
            {
                // One fsync per directory at a time, as the kernel would not care but the design does.
                Assert.Equal(1, Interlocked.Increment(ref inSync));
                Thread.Sleep(1);
                Interlocked.Decrement(ref inSync);
            }, counters);
            await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => committer.FlushAsync("d"))));
            Assert.Equal(200, counters.DirectorySyncRequests);
            Assert.InRange(counters.DirectoryFsyncs, 1, 200);
        }
    }
}
