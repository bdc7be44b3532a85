using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolConcurrencyTests
    {
        const int Messages = 50;
        readonly ITestOutputHelper _output;

        public SpoolConcurrencyTests(ITestOutputHelper output) => _output = output;

        static Task<string> CommitConcurrently(SpoolWriter writer, int n) => Task.Run(async () =>
        {
            using var message = writer.BeginMessage(TempSpool.NewEnvelope("<r" + n + "@example.com>"));
            var bytes = Body(n);
            await message.Body.WriteAsync(bytes, 0, bytes.Length);
            await writer.CommitAsync(message);
            return message.Id;
        });

        static byte[] Body(int n) => Encoding.ASCII.GetBytes("Subject: " + n + "\r\n\r\nmessage " + n + "\r\n");

        static void AssertAllVisible(TempSpool spool, string[] ids)
        {
            Assert.Equal(Messages, ids.Distinct().Count());
            Assert.Empty(spool.Files("incoming"));
            Assert.Equal(ids.Select(id => id + ".msg").OrderBy(n => n, StringComparer.Ordinal), spool.Files("ready"));
            var listed = SpoolReader.List(spool.Root);
            Assert.Equal(Messages, listed.Count);
            foreach (var envelope in listed)
            {
                var n = int.Parse(envelope.Recipients.Single().Address.Substring(2).Split('@')[0]);
                using var body = SpoolReader.OpenBody(spool.Root, envelope.Id);
                using var copy = new MemoryStream();
                body.CopyTo(copy);
                Assert.Equal(Body(n), copy.ToArray());   // each header with its own body
                Assert.Equal(Body(n).Length, envelope.Size);
            }
            Assert.Equal(Enumerable.Range(0, Messages).Select(n => "<r" + n + "@example.com>").OrderBy(r => r),
                listed.Select(e => e.Recipients.Single().Address).OrderBy(r => r));
        }

        [Fact]
        public async Task Fifty_concurrent_commits_are_all_visible_and_never_need_more_than_one_directory_fsync_each()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, null, slots: false);
            var ids = await Task.WhenAll(Enumerable.Range(0, Messages).Select(n => CommitConcurrently(writer, n)));

            AssertAllVisible(spool, ids);
            var c = writer.Counters;
            _output.WriteLine("real directory fsyncs: " + c);
            Assert.Equal(Messages, c.Commits);
            if (OperatingSystem.IsWindows())
            {
                Assert.Equal(0, c.DirectoryFsyncs);   // write-through renames, nothing to sync
                return;
            }
            Assert.Equal(Messages, c.DirectorySyncRequests);
            // Whether fsyncs are shared here depends on timing (a fast disk finishes each before the
            // next commit asks); the deterministic case is the last test.
            Assert.InRange(c.DirectoryFsyncs, 1, c.DirectorySyncRequests);
        }

        [Fact]
        public async Task Fifty_concurrent_commits_into_slots_need_no_directory_fsync_of_their_own()
        {
            using var spool = new TempSpool();
            var writer = SpoolWriter.Open(spool.Root);
            var opened = writer.Counters.DirectorySyncRequests;   // the layout and the first slots
            var ids = await Task.WhenAll(Enumerable.Range(0, Messages).Select(n => CommitConcurrently(writer, n)));

            AssertAllVisible(spool, ids);
            var c = writer.Counters;
            _output.WriteLine("with slots: " + c);
            Assert.Equal(Messages, c.Commits);
            if (OperatingSystem.IsWindows()) return;   // write-through renames, no slots
            // At most the refills' syncs of incoming/ (up to IncomingSlots.Capacity slots each), none per commit.
            Assert.InRange(c.DirectorySyncRequests - opened, 0, 1);
        }

        [Fact]
        public async Task A_debris_sweep_running_during_commits_never_takes_an_acknowledged_message()
        {
            using var spool = new TempSpool();
            // No age margin at all: the sweep may take a file between its commit's close and rename.
            var writer = SpoolWriter.Open(spool.Root, TimeSpan.Zero, null);
            using var stop = new CancellationTokenSource();
            var sweeps = 0;
            var sweeper = Task.Run(() =>
            {
                while (!stop.IsCancellationRequested)
                {
                    writer.RemoveDebris();
                    sweeps++;
                }
            });

            var outcomes = await Task.WhenAll(Enumerable.Range(0, 200).Select(async n =>
            {
                try { return await CommitConcurrently(writer, n); }
                catch (SpoolException) { return null; }   // a sweep took its file mid-commit: not acknowledged
            }));
            stop.Cancel();
            await sweeper;

            var acknowledged = outcomes.Where(id => id != null).ToArray();
            _output.WriteLine($"{acknowledged.Length} of 200 acknowledged during {sweeps} sweeps; {writer.Counters}");
            writer.RemoveDebris();
            Assert.Equal(acknowledged.OrderBy(i => i, StringComparer.Ordinal), SpoolReader.List(spool.Root).Select(e => e.Id));
            Assert.Equal(acknowledged.Select(id => id + ".msg").OrderBy(i => i, StringComparer.Ordinal), spool.Files("ready"));
            Assert.Empty(spool.Files("incoming"));
        }

        [Fact]
        public async Task Commits_arriving_during_a_slow_directory_fsync_share_the_next_one()
        {
            using var spool = new TempSpool();
            SpoolWriter writer = null;
            var held = 0;
            // The first fsync of ready/ is slow: it lasts until every commit has asked for one. All
            // of those then wait for the same next fsync.
            writer = SpoolWriter.Open(spool.Root, SpoolWriter.OrphanAge, dir =>
            {
                var w = writer;
                if (w != null && dir.EndsWith(SpoolLayout.Ready, StringComparison.Ordinal) && Interlocked.Exchange(ref held, 1) == 0)
                    Assert.True(SpinWait.SpinUntil(() => w.Counters.DirectorySyncRequests >= Messages, TimeSpan.FromSeconds(60)),
                        "not every commit reached the ready/ sync: " + w.Counters);
                DirectorySync.Flush(dir);
            }, slots: false);
            var ids = await Task.WhenAll(Enumerable.Range(0, Messages).Select(n => CommitConcurrently(writer, n)));

            AssertAllVisible(spool, ids);
            var c = writer.Counters;
            _output.WriteLine("with a slow first fsync: " + c);
            Assert.Equal(Messages, c.Commits);
            Assert.Equal(Messages, c.DirectorySyncRequests);
            // The slow one, and one shared by the 49 others.
            Assert.Equal(2, c.DirectoryFsyncs);
        }
    }
}
