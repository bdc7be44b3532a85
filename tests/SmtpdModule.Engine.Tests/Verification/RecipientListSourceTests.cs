using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.State;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>The list file as a source: answers, reload on change, broken edits, many readers.</summary>
    public sealed class RecipientListSourceTests : IDisposable
    {
        static readonly DateTime Epoch = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        readonly string _dir = Directory.CreateTempSubdirectory("smtpd-vlist-").FullName;
        readonly string _path;

        public RecipientListSourceTests() => _path = Path.Combine(_dir, "recipients");
        public void Dispose() => Directory.Delete(_dir, true);

        // Time stamps may be coarse: each edit gets its own, instead of sleeping until the clock ticks.
        static void Write(string path, string text, int second)
        {
            File.WriteAllText(path, text);
            File.SetLastWriteTimeUtc(path, Epoch.AddSeconds(second));
        }

        static MailboxStatus StatusOf(RecipientListSource source, string mailbox)
        {
            var task = source.CheckAsync(mailbox);
            Assert.True(task.IsCompletedSuccessfully);   // no I/O to wait for: answered before returning
            return task.Result.Status;
        }

        [Fact]
        public void The_source_answers_with_its_name_and_the_line_that_matched()
        {
            Write(_path, "# staff\nsales-*@example.org\n", 0);
            var source = RecipientListSource.Open(_path);
            Assert.Equal("list", source.Name);
            Assert.Equal(Path.GetFullPath(_path), source.Path);
            var answer = source.CheckAsync("sales-east@example.org").Result;
            Assert.Equal(MailboxStatus.Known, answer.Status);
            Assert.Equal("list", answer.Source);
            Assert.Equal("line 2: sales-*@example.org", answer.Detail);
            Assert.False(answer.FromCache);
        }

        [Fact]
        public void A_cancelled_session_gets_a_cancelled_task_and_a_null_mailbox_throws()
        {
            Write(_path, "@example.org\n", 0);
            var source = RecipientListSource.Open(_path);
            Assert.True(source.CheckAsync("a@example.org", new CancellationToken(true)).IsCanceled);
            Assert.Throws<ArgumentNullException>(() => { _ = source.CheckAsync(null); });   // before any task: an argument error
        }

        [Fact]
        public void The_first_load_fails_on_an_error_with_its_place()
        {
            Write(_path, "ok@example.org\n\nbad@\n", 0);
            var ex = Assert.Throws<RecipientListException>(() => RecipientListSource.Open(_path));
            Assert.Equal(Path.GetFullPath(_path), ex.Path);
            Assert.Equal((3, 5), (ex.Line, ex.Column));
            Assert.True(Assert.Throws<RecipientListException>(() => RecipientListSource.Open(Path.Combine(_dir, "missing"))).IsUnreadable);
        }

        [Fact]
        public void An_edit_takes_effect_once_the_interval_has_passed_and_not_before()
        {
            Write(_path, "old@example.org\n", 0);
            var clock = new FakeClock();
            var source = RecipientListSource.Open(_path, clock: clock);
            var reloads = new List<RecipientList>();
            source.Reloaded += (_, list) => reloads.Add(list);

            Write(_path, "new@example.org\n", 10);
            clock.Advance(TimeSpan.FromMilliseconds(999));
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "old@example.org"));   // not looked at yet
            Assert.Empty(reloads);

            clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "new@example.org"));
            Assert.Equal(MailboxStatus.Unknown, StatusOf(source, "old@example.org"));
            var reloaded = Assert.Single(reloads);
            Assert.Same(source.Current, reloaded);

            clock.Advance(TimeSpan.FromSeconds(5));
            _ = source.Current;
            Assert.Single(reloads);   // an unchanged file is not read again
        }

        [Fact]
        public void Check_now_looks_at_the_file_whatever_the_interval()
        {
            Write(_path, "old@example.org\n", 0);
            var source = RecipientListSource.Open(_path, clock: new FakeClock());
            Write(_path, "new@example.org\n", 10);
            Assert.True(source.CheckNow());
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "new@example.org"));
            Assert.False(source.CheckNow());
        }

        [Fact]
        public void A_broken_edit_keeps_the_last_good_list_and_is_reported_once()
        {
            Write(_path, "user@example.org\n", 0);
            var clock = new FakeClock();
            var source = RecipientListSource.Open(_path, clock: clock);
            var failures = new List<RecipientListException>();
            source.ReloadFailed += (_, e) => failures.Add(e);

            Write(_path, "user@example.org\nnew@example.org\n  !@\n", 10);
            clock.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "user@example.org"));
            Assert.Equal(MailboxStatus.Unknown, StatusOf(source, "new@example.org"));   // nothing of the broken file
            var e = Assert.Single(failures);
            Assert.Equal((3, 5), (e.Line, e.Column));
            Assert.Same(e, source.LastError);

            clock.Advance(TimeSpan.FromSeconds(1));
            _ = source.Current;
            Assert.Single(failures);   // same broken state: not reported again

            Write(_path, "new@example.org\n", 20);
            Assert.True(source.CheckNow());
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "new@example.org"));
            Assert.Null(source.LastError);
        }

        [Fact]
        public void A_deleted_file_keeps_the_list_in_force()
        {
            Write(_path, "user@example.org\n", 0);
            var source = RecipientListSource.Open(_path, TimeSpan.Zero);
            var failures = new List<RecipientListException>();
            source.ReloadFailed += (_, e) => failures.Add(e);
            File.Delete(_path);
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "user@example.org"));
            Assert.Equal(MailboxStatus.Known, StatusOf(source, "user@example.org"));
            Assert.True(Assert.Single(failures).IsUnreadable);
        }

        [Fact]
        public async Task Readers_on_many_threads_see_whole_lists_while_the_file_is_replaced()
        {
            // Version k admits a pair of addresses and nothing else; a reader that sees one of a pair
            // but not the other has seen a half-swapped list.
            static string Version(int k) => $"a{k}@example.org\nb{k}@example.org\n# version {k}\n";
            const int Versions = 60;
            Write(_path, Version(0), 0);
            var source = RecipientListSource.Open(_path, TimeSpan.Zero);   // every lookup may stat and reload
            int failed = 0, reloaded = 0;
            source.ReloadFailed += (_, _) => Interlocked.Increment(ref failed);
            source.Reloaded += (_, _) => Interlocked.Increment(ref reloaded);
            var done = new CancellationTokenSource();
            var problems = new ConcurrentQueue<string>();
            long lookups = 0;

            var readers = Enumerable.Range(0, 4).Select(r => Task.Run(() =>
            {
                while (!done.IsCancellationRequested)
                {
                    var list = source.Current;
                    int seen = Enumerable.Range(0, Versions).Count(k => list.Check($"a{k}@example.org").Status == MailboxStatus.Known);
                    if (seen != 1) problems.Enqueue($"{seen} versions in one list");
                    for (int k = 0; k < Versions; k++)
                        if (list.Check($"a{k}@example.org").Status != list.Check($"B{k}@EXAMPLE.org").Status)
                            problems.Enqueue($"version {k} half present");
                    // Through the interface too: it may be the thread that reloads.
                    var answer = source.CheckAsync("a0@example.org").Result;
                    if (answer.Status == MailboxStatus.Unavailable) problems.Enqueue("unavailable");
                    Interlocked.Increment(ref lookups);
                }
            })).ToArray();

            for (int k = 1; k < Versions; k++)
            {
                // Interleave for sure: each version is written only after the readers did more lookups.
                long before = Interlocked.Read(ref lookups);
                Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref lookups) > before, TimeSpan.FromSeconds(30)), "the readers stalled");
                // Written aside and renamed over the list, as editors and deployment tools do.
                var temp = _path + ".tmp";
                Write(temp, Version(k), k);
                File.Move(temp, _path, overwrite: true);
                source.CheckNow();
            }
            source.CheckNow();
            done.Cancel();
            await Task.WhenAll(readers);

            Assert.Empty(problems);
            Assert.Equal(0, failed);
            Assert.True(reloaded >= Versions - 1, reloaded + " reloads");   // each version took effect
            Assert.Equal(MailboxStatus.Known, StatusOf(source, $"a{Versions - 1}@example.org"));
            Assert.Equal(MailboxStatus.Unknown, StatusOf(source, "a0@example.org"));
        }
    }
}
