using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Shares directory fsyncs between concurrent commits. A caller has just renamed a file into a
    /// directory and needs an fsync of that directory that STARTED after its rename. So:
    /// <list type="bullet">
    /// <item>no fsync of the directory running: one starts now and serves this caller;</item>
    /// <item>one running: it may have begun before the caller's rename, so it does not count; the
    /// caller joins the group for the NEXT fsync, which starts as soon as the running one ends and
    /// serves everybody who joined meanwhile.</item>
    /// </list>
    /// Under load this costs at most two fsyncs per busy period of a directory instead of one per
    /// commit, and no caller waits for more than the fsync in progress plus its own.
    /// </summary>
    /// <remarks>
    /// A failed fsync fails every caller of that round (their renames may not be durable); the
    /// next round tries again. The fsyncs run on the thread pool, one at a time per directory.
    /// </remarks>
    internal sealed class GroupCommitter
    {
        readonly Action<string> _sync;
        readonly SpoolCounters _counters;
        readonly object _gate = new object();
        readonly Dictionary<string, DirectoryRound> _directories = new Dictionary<string, DirectoryRound>(StringComparer.Ordinal);

        sealed class DirectoryRound
        {
            public bool Running;
            public TaskCompletionSource<bool> Next;   // the group waiting for the fsync after the running one
        }

        public GroupCommitter(Action<string> sync, SpoolCounters counters)
        {
            _sync = sync ?? throw new ArgumentNullException(nameof(sync));
            _counters = counters ?? throw new ArgumentNullException(nameof(counters));
        }

        /// <summary>Completes after an fsync of <paramref name="directory"/> that started after
        /// this call; faults with that fsync's exception.</summary>
        public Task FlushAsync(string directory)
        {
            _counters.AddSyncRequest();
            TaskCompletionSource<bool> round;
            DirectoryRound state;
            lock (_gate)
            {
                if (!_directories.TryGetValue(directory, out state))
                    _directories.Add(directory, state = new DirectoryRound());
                if (state.Running)
                {
                    if (state.Next == null) state.Next = NewRound();
                    return state.Next.Task;
                }
                state.Running = true;
                round = NewRound();
            }
            Task.Run(() => Drain(directory, state, round));
            return round.Task;
        }

        void Drain(string directory, DirectoryRound state, TaskCompletionSource<bool> round)
        {
            while (true)
            {
                try
                {
                    _counters.AddFsync();
                    _sync(directory);
                    round.TrySetResult(true);
                }
                catch (Exception ex)
                {
                    round.TrySetException(ex);
                }
                lock (_gate)
                {
                    if (state.Next == null)
                    {
                        state.Running = false;
                        return;
                    }
                    round = state.Next;
                    state.Next = null;
                }
            }
        }

        // Continuations run on the pool, not inside the drain loop, so a slow waiter cannot delay
        // the next fsync.
        static TaskCompletionSource<bool> NewRound() =>
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
