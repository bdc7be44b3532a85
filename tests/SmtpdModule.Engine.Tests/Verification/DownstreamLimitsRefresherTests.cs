using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>The refresher's timing with a probe the test answers and a clock the test moves.</summary>
    public class DownstreamLimitsRefresherTests
    {
        long _now = 1000;
        int _probes;
        TaskCompletionSource<DownstreamLimits> _answer = NewAnswer();

        static TaskCompletionSource<DownstreamLimits> NewAnswer() =>
            new TaskCompletionSource<DownstreamLimits>(TaskCreationOptions.RunContinuationsAsynchronously);

        static DownstreamLimits Size(long size) => new DownstreamLimits(size, false, true, DateTimeOffset.UtcNow, "test");

        void Advance(TimeSpan span) => _now += (long)(span.TotalSeconds * Stopwatch.Frequency);

        DownstreamLimitsRefresher Make(TimeSpan? firstRead = null) =>
            new DownstreamLimitsRefresher(_ =>
            {
                var answer = _answer.Task;           // taken before it is counted: see Answer
                Interlocked.Increment(ref _probes);
                return answer;
            }, TimeSpan.FromMinutes(60), firstRead ?? TimeSpan.FromSeconds(30), () => _now);

        /// <summary>Answers probe number <paramref name="probe"/> once it has asked (it asks after a
        /// yield: swapping the answer before that would hand it the next one).</summary>
        async Task Answer(DownstreamLimitsRefresher refresher, int probe, DownstreamLimits limits, Func<DownstreamLimits, bool> until)
        {
            await TestWait.UntilAsync(() => Volatile.Read(ref _probes) == probe);
            var answer = _answer;
            _answer = NewAnswer();
            answer.SetResult(limits);
            await TestWait.UntilAsync(() => until(refresher.Current));
        }

        [Fact]
        public async Task The_first_read_waits_for_the_first_probe()
        {
            using var refresher = Make();
            var read = refresher.GetAsync();
            await TestWait.UntilAsync(() => Volatile.Read(ref _probes) == 1);
            Assert.False(read.IsCompleted);

            _answer.SetResult(Size(1000000));

            Assert.Equal(1000000, (await read).MaxSize);
        }

        [Fact]
        public async Task The_first_read_gives_up_after_its_timeout_and_says_unknown()
        {
            using var refresher = Make(TimeSpan.FromMilliseconds(100));
            var limits = await refresher.GetAsync();
            Assert.False(limits.IsKnown);
            Assert.Equal(1, _probes);
        }

        [Fact]
        public async Task Readers_get_the_last_known_while_a_due_refresh_runs_and_a_failed_one_keeps_it()
        {
            using var refresher = Make();
            var first = refresher.GetAsync();
            await Answer(refresher, 1, Size(1000000), l => l.IsKnown);
            Assert.Equal(1000000, (await first).MaxSize);

            await refresher.GetAsync();             // not due: no new probe
            Assert.Equal(1, _probes);

            Advance(TimeSpan.FromMinutes(61));
            Assert.Equal(1000000, refresher.Current.MaxSize);   // starts the refresh, does not wait for it
            await TestWait.UntilAsync(() => Volatile.Read(ref _probes) == 2);
            Assert.Equal(1000000, (await refresher.GetAsync()).MaxSize);
            Assert.Equal(2, _probes);                // one probe at a time

            var kept = refresher.Current;
            var failure = _answer;
            _answer = NewAnswer();
            failure.SetResult(DownstreamLimits.Unavailable("connection refused"));
            await TestWait.UntilAsync(() => !refresher.Refreshing);
            Advance(TimeSpan.FromSeconds(1));
            Assert.Same(kept, refresher.Current);

            // After a failure the next probe is due within a minute, not an hour.
            Advance(TimeSpan.FromMinutes(2));
            await TestWait.UntilAsync(() => { _ = refresher.Current; return Volatile.Read(ref _probes) == 3; });
            await Answer(refresher, 3, Size(2000000), l => l.MaxSize == 2000000);
        }

        [Fact]
        public async Task Without_anything_learned_the_reason_of_the_last_failure_is_reported()
        {
            using var refresher = Make();
            _ = refresher.Current;
            await Answer(refresher, 1, DownstreamLimits.Unavailable("connection refused"), l => l.Detail == "connection refused");
            Assert.False(refresher.Current.IsKnown);
            Assert.Equal(0, refresher.Current.CapSize(0));
        }

        [Fact]
        public async Task Changed_is_raised_for_news_only_the_first_answer_new_limits_a_failure_and_the_recovery()
        {
            using var refresher = Make();
            var seen = new System.Collections.Concurrent.ConcurrentQueue<DownstreamLimits>();
            refresher.Changed += (_, l) => seen.Enqueue(l);
            var first = Size(1000000);
            var steps = new[] { first, Size(1000000), DownstreamLimits.Unavailable("refused"), DownstreamLimits.Unavailable("refused again"), Size(1000000), Size(2000000) };
            var raised = new[] { 1, 1, 2, 2, 3, 4 };   // events so far after each probe
            for (int i = 0; i < steps.Length; i++)
            {
                Advance(TimeSpan.FromMinutes(61));
                _ = refresher.Current;
                await Answer(refresher, i + 1, steps[i], _ => !refresher.Refreshing);
                // Raised on the probe's thread just after it is done: wait for it before the next probe.
                await TestWait.UntilAsync(() => seen.Count >= raised[i]);
            }

            Assert.Equal(new[] { "SIZE 1000000", "unknown (refused)", "SIZE 1000000", "SIZE 2000000" },
                         seen.Select(l => l.ToString().Split(',')[0]).ToArray());
        }

        [Fact]
        public async Task Dispose_cancels_the_probe_in_flight()
        {
            CancellationToken seen = default;
            var refresher = new DownstreamLimitsRefresher(ct =>
            {
                seen = ct;
                return Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => DownstreamLimits.Unknown, TaskScheduler.Default);
            }, TimeSpan.FromMinutes(60), TimeSpan.FromSeconds(30), () => _now);
            _ = refresher.Current;
            await TestWait.UntilAsync(() => seen.CanBeCanceled);

            refresher.Dispose();

            Assert.True(seen.IsCancellationRequested);
            await Assert.ThrowsAsync<ObjectDisposedException>(() => refresher.GetAsync());
        }
    }
}
