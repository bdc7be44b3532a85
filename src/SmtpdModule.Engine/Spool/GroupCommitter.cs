using System;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Shares directory fsyncs between concurrent commits. A caller has just renamed a file into a
    /// directory and needs an fsync of that directory that STARTED after its rename. So:
    /// <list type="bullet">
    /// <item>no fsync of the directory running: the caller runs one itself, on its own thread,
    /// and returns when it is done (an already completed task);</item>
    /// <item>one running: it may have begun before the caller's rename, so it does not count; the
    /// caller joins the group for the NEXT fsync. The first to join leads the group: when the
    /// running fsync ends, the leader runs the next one, which serves everybody who joined before
    /// it started.</item>
    /// </list>
    /// Under load this costs at most two fsyncs per busy period of a directory instead of one per
    /// commit, and no caller waits for more than the fsync in progress plus its own.
    /// </summary>
    /// <remarks>
    /// <para>
    /// Nothing is handed to another thread when nobody waits: one session at a time costs a lock
    /// and the fsync, no task and no thread-pool work item. An earlier version started every fsync
    /// with <c>Task.Run</c>; each hop woke thread-pool workers that spun in <c>sched_yield</c>
    /// (80-127 calls per message at one session, bench/smtp/README.md).
    /// </para>
    /// <para>
    /// The fsync blocks the calling thread, as the file's own fsync just before it does. A leader
    /// resumes on the thread pool (never inside the previous runner's call, which would make that
    /// caller wait for a second fsync) and goes on with its own commit on the same thread; the
    /// followers resume on the thread pool too, so that a slow follower cannot delay anyone.
    /// </para>
    /// <para>
    /// A failed fsync fails every caller of that round (their renames may not be durable); the
    /// next round tries again.
    /// </para>
    /// </remarks>
    internal sealed class GroupCommitter
    {
        readonly Action<string> _sync;
        readonly SpoolCounters _counters;
        readonly object _gate = new object();
        readonly Dictionary<string, DirectoryState> _directories = new Dictionary<string, DirectoryState>(StringComparer.Ordinal);

        sealed class DirectoryState
        {
            public bool Running;    // an fsync is running, or a leader has been told to start one
            public Round Next;      // the group for the next fsync; open to joiners until it starts
        }

        sealed class Round
        {
            public readonly TaskCompletionSource<bool> Turn = NewSignal();   // the leader may start
            public readonly TaskCompletionSource<bool> Done = NewSignal();   // the fsync is over
        }

        public GroupCommitter(Action<string> sync, SpoolCounters counters)
        {
            _sync = sync ?? throw new ArgumentNullException(nameof(sync));
            _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        }

        /// <summary>Completes after an fsync of <paramref name="directory"/> that started after
        /// this call; faults with that fsync's exception. May run that fsync before it returns.</summary>
        public Task FlushAsync(string directory)
        {
            _counters.AddSyncRequest();
            DirectoryState state;
            Round round;
            lock (_gate)
            {
                if (!_directories.TryGetValue(directory, out state))
                    _directories.Add(directory, state = new DirectoryState());
                if (state.Running)
                {
                    if (state.Next != null) return state.Next.Done.Task;   // a follower
                    round = state.Next = new Round();                       // the leader
                }
                else
                {
                    state.Running = true;
                    round = null;                                           // runs it now
                }
            }
            if (round != null) return LeadAsync(directory, state, round);

            var error = Sync(directory);
            HandOver(state);
            return error == null ? Task.CompletedTask : Task.FromException(error);
        }

        async Task LeadAsync(string directory, DirectoryState state, Round round)
        {
            await round.Turn.Task.ConfigureAwait(false);
            // From here on the fsync may have started for all a joiner knows: close the group.
            lock (_gate) state.Next = null;
            var error = Sync(directory);
            HandOver(state);
            if (error == null)
            {
                round.Done.TrySetResult(true);
                return;
            }
            round.Done.TrySetException(error);
            ExceptionDispatchInfo.Capture(error).Throw();
        }

        Exception Sync(string directory)
        {
            try
            {
                _counters.AddFsync();
                _sync(directory);
                return null;
            }
            catch (Exception ex)
            {
                return ex;
            }
        }

        // After an fsync: a group waiting for the next one gets its turn, else the directory is idle.
        void HandOver(DirectoryState state)
        {
            Round next;
            lock (_gate)
            {
                next = state.Next;
                if (next == null) state.Running = false;
            }
            next?.Turn.TrySetResult(true);
        }

        static TaskCompletionSource<bool> NewSignal() =>
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
