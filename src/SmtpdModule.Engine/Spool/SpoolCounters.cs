using System.Threading;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Live counts of one <see cref="SpoolWriter"/>, safe to read from any thread. The ratio of
    /// <see cref="DirectoryFsyncs"/> to <see cref="DirectorySyncRequests"/> shows how much group
    /// commit saves: each commit asks for one directory sync (of <c>ready/</c>).
    /// </summary>
    public sealed class SpoolCounters
    {
        long _commits, _aborts, _failures, _fsyncs, _requests;

        /// <summary>Messages committed (acknowledgeable).</summary>
        public long Commits => Interlocked.Read(ref _commits);

        /// <summary>Messages aborted before a commit was attempted.</summary>
        public long Aborts => Interlocked.Read(ref _aborts);

        /// <summary>Commits that failed (and were cleaned up).</summary>
        public long Failures => Interlocked.Read(ref _failures);

        /// <summary>Directory fsyncs actually made. Zero on Windows, where renames are write-through.</summary>
        public long DirectoryFsyncs => Interlocked.Read(ref _fsyncs);

        /// <summary>Directory syncs asked for by commits; with group commit, several are served by one fsync.</summary>
        public long DirectorySyncRequests => Interlocked.Read(ref _requests);

        internal void AddCommit() => Interlocked.Increment(ref _commits);
        internal void AddAbort() => Interlocked.Increment(ref _aborts);
        internal void AddFailure() => Interlocked.Increment(ref _failures);
        internal void AddFsync() => Interlocked.Increment(ref _fsyncs);
        internal void AddSyncRequest() => Interlocked.Increment(ref _requests);

        public override string ToString() =>
            "commits=" + Commits + " aborts=" + Aborts + " failures=" + Failures
            + " fsyncs=" + DirectoryFsyncs + " sync-requests=" + DirectorySyncRequests;
    }
}
