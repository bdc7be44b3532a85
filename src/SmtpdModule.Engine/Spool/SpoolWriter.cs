using System;
using System.Diagnostics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// The spool the SMTP receiver writes into and the forwarder reads: store-then-forward, as in
    /// the original (reference §5.1), with the completion marker made crash-safe (reference §9:
    /// "mark completion by atomic rename … flush to stable storage before the 250").
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>What it promises.</b> When <see cref="CommitAsync"/> returns, the message is on stable
    /// storage and stays there through a crash or power loss at any later point; when it throws, or
    /// the message is aborted, nothing of it remains (or, after a crash, only debris that the next
    /// <see cref="Open(string)"/> removes). Between those two, a crash can leave a message the client was
    /// never told about, which the client will send again: duplicates are possible, loss is not
    /// (RFC 5321 §6.1 accepts the same trade).
    /// </para>
    /// <para>
    /// <b>Commit order.</b> A message is one file (<see cref="MessageFile"/>):
    /// 1. <see cref="BeginMessage"/> takes a free slot (<see cref="IncomingSlots"/>: a file, held
    ///    open and claimed by this writer, whose name in <c>incoming/</c> was synced in advance,
    ///    with others, and whose blocks were preallocated and synced when the pool refilled) and
    ///    writes the envelope header over its start; the SMTP layer writes the body after it;
    /// 2. <see cref="CommitAsync"/> seals it (<see cref="MessageSeal"/>: a hash and the length),
    ///    syncs its data (<see cref="FileDataSync"/>), cuts the slot's zeros after the message and
    ///    closes it (checked). On journaled ext4 and on XFS a message that fits its slot writes its data out
    ///    and waits for a disk cache flush shared with the commits beside it
    ///    (<see cref="DeviceFlush"/>), instead of a sync of its own;
    /// 3. renames it to <c>ready/&lt;id&gt;.msg</c>, where the forwarder sees it; the commit returns
    ///    and the SMTP layer says 250.
    /// That is at most one sync per message, as Postfix's cleanup makes, one that commits no
    /// journal when the message fits its slot, and one per group of overlapping commits where
    /// the flush is shared. The rename need not be durable before the 250: the file
    /// was synced under a name that was, so a crash leaves it, sealed, in <c>incoming/</c> or in
    /// <c>ready/</c>, and <see cref="Open(string)"/> moves a sealed file whose bytes still match
    /// its seal into <c>ready/</c> (<c>SpoolCleanup.RecoverSealed</c>). Nor need the cut be: a
    /// reader stops at the length the seal states.
    /// Without a free slot (a burst larger than the pool while it refills) the file is created
    /// afresh and step 3 adds an fsync of <c>ready/</c>, shared with concurrent commits
    /// (<see cref="GroupCommitter"/>): POSIX makes a rename durable only once its target directory
    /// is synced.
    /// </para>
    /// <para>
    /// <b>What it trusts.</b> That fsync and fdatasync mean what POSIX says (true for ext4, XFS,
    /// Btrfs, ZFS on drives that honour cache flushes; on macOS fsync does not flush the drive's
    /// cache); that
    /// rename within one directory tree is atomic, and after a crash either done or not (true of
    /// journaled file systems); and that the spool root is used by SmtpdModule
    /// only, with the forwarder keeping its side of the layout: a message file moves between
    /// state directories by a single rename and is never rewritten.
    /// </para>
    /// <para>
    /// <b>Permissions.</b> On Unix the spool's directories are made 0700 when created; files
    /// inside get the process's umask and no chmod of their own (it would cost a system call per
    /// message): the 0700 directories already keep everyone else from reaching them.
    /// </para>
    /// <para>Thread-safe: sessions begin and commit messages concurrently.</para>
    /// </remarks>
    public sealed class SpoolWriter : IDisposable
    {
        /// <summary>How old a file in <c>incoming/</c> must be before the debris sweep
        /// (<see cref="Open(string)"/>, <see cref="RemoveDebris"/>) removes it. Correctness does not
        /// depend on it (see <c>SpoolCleanup</c>); it keeps the sweep from failing a concurrent
        /// commit that is between its close and its rename, which takes microseconds.</summary>
        public static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(10);

        readonly string _readyDirectory;
        readonly GroupCommitter _committer;   // null: renames are durable by themselves (Windows)
        readonly IncomingSlots _slots;        // null where _committer is
        readonly Action<string> _sync;
        readonly TimeSpan _orphanAge;

        SpoolWriter(string root, TimeSpan orphanAge, GroupCommitter committer, GroupCommitter slotCommitter, Action<string> sync, SpoolCounters counters)
        {
            Root = root;
            _orphanAge = orphanAge;
            _readyDirectory = Path.Combine(root, SpoolLayout.Ready);
            _committer = committer;
            _sync = sync;
            _slots = slotCommitter == null ? null : new IncomingSlots(Path.Combine(root, SpoolLayout.Incoming), slotCommitter);
            Counters = counters;
        }

        /// <summary>The full path of the spool root.</summary>
        public string Root { get; }

        /// <summary>Counts of commits, aborts and directory fsyncs since <see cref="Open(string)"/>.</summary>
        public SpoolCounters Counters { get; }

        /// <summary>The disk cache flush commits share; null where each message syncs its own file.
        /// Tests replace it.</summary>
        internal DeviceFlush DeviceFlush { get; set; }

        /// <summary>The pool of slots; null without one (tests).</summary>
        internal IncomingSlots Slots => _slots;

        /// <summary>
        /// Bytes available to this process on the spool's volume, so the receiver can answer
        /// <c>452 4.3.1</c> before accepting a message it could not store: as the volume said it
        /// at most a tenth of a second ago.
        /// </summary>
        /// <exception cref="SpoolException">The volume cannot be queried (<see cref="SpoolErrorReason.Io"/>).</exception>
        public long FreeBytes
        {
            get
            {
                var known = _free;
                var now = Stopwatch.GetTimestamp();
                if (known != null && now - known.At < FreeBytesFreshFor) return known.Bytes;
                try
                {
                    var bytes = HostOsInfo.IsWindows ? WindowsFileApi.FreeBytes(Root) : new DriveInfo(Root).AvailableFreeSpace;
                    _free = new FreeSpace(bytes, now);
                    return bytes;
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException)
                {
                    throw new SpoolException(null, SpoolErrorReason.Io, ex);
                }
            }
        }

        // Asked at every MAIL FROM: a statfs per transaction. A tenth of a second old is fresh
        // enough against a margin of megabytes (the proxy's is 64 MiB by default).
        static readonly long FreeBytesFreshFor = Stopwatch.Frequency / 10;
        volatile FreeSpace _free;

        sealed class FreeSpace
        {
            public readonly long Bytes, At;
            public FreeSpace(long bytes, long at) { Bytes = bytes; At = at; }
        }

        /// <summary>
        /// What a failure stands for, for callers that meet file errors themselves: the SMTP layer
        /// writes <see cref="IncomingMessage.Body"/> directly, and a write there can fail with the
        /// disk full. <see cref="SpoolErrorReason.Full"/> for a full volume or quota (answer
        /// <c>452 4.3.1</c>), the reason itself for a <see cref="SpoolException"/>, otherwise
        /// <see cref="SpoolErrorReason.Io"/>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="exception"/> is null.</exception>
        public static SpoolErrorReason ReasonFor(Exception exception)
        {
            if (exception == null) throw new ArgumentNullException(nameof(exception));
            return SpoolErrors.ReasonFor(exception);
        }

        /// <summary>
        /// Opens (creating when needed) the spool at <paramref name="root"/>: makes the layout of
        /// <see cref="SpoolLayout"/>, private to this user on Unix, and removes crash debris
        /// older than <see cref="OrphanAge"/>: files left in <c>incoming/</c> that no live writer
        /// holds (see <see cref="RemoveDebris"/>).
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="root"/> is null, empty or not a valid path.</exception>
        /// <exception cref="SpoolException">The spool cannot be created or cleaned
        /// (<see cref="SpoolErrorReason.Io"/> or <see cref="SpoolErrorReason.Full"/>).</exception>
        public static SpoolWriter Open(string root) => Open(root, OrphanAge, null);

        /// <param name="root">The spool root.</param>
        /// <param name="orphanAge">See <see cref="OrphanAge"/>.</param>
        /// <param name="syncDirectory">Replaces <see cref="DirectorySync.Flush"/> (tests); when
        /// given, directories are synced through the group committer on every platform.</param>
        /// <param name="slots">False: no <see cref="IncomingSlots"/>, every commit syncs
        /// <c>ready/</c> (tests of that path, which a writer also takes when its slots run out).</param>
        internal static SpoolWriter Open(string root, TimeSpan orphanAge, Action<string> syncDirectory, bool slots = true)
        {
            if (string.IsNullOrEmpty(root)) throw new ArgumentException("A spool root is required.", nameof(root));
            string full;
            try { full = Path.GetFullPath(root); }
            catch (Exception ex) when (ex is NotSupportedException || ex is PathTooLongException || ex is System.Security.SecurityException)
            {
                throw new ArgumentException("Not a valid spool root: " + root, nameof(root), ex);
            }

            var counters = new SpoolCounters();
            var sync = syncDirectory ?? DirectorySync.Flush;
            var committer = syncDirectory != null || !HostOsInfo.IsWindows ? new GroupCommitter(sync, counters) : null;
            try
            {
                SpoolLayout.Create(full, sync);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new SpoolException(null, SpoolErrors.ReasonFor(ex), ex);
            }
            var writer = new SpoolWriter(full, orphanAge, committer, slots ? committer : null, sync, counters);
            writer.RemoveDebris();
            try
            {
                writer._slots?.Fill();
                if (writer._slots != null) writer.DeviceFlush = DeviceFlush.For(full);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new SpoolException(null, SpoolErrors.ReasonFor(ex), ex);
            }
            return writer;
        }

        /// <summary>
        /// Removes crash debris, as <see cref="Open(string)"/> does: files in <c>incoming/</c> that
        /// no live writer holds and that are older than <see cref="OrphanAge"/>. Safe at any time,
        /// with commits in progress here or in other processes (see <c>SpoolCleanup</c> for why).
        /// Call it now and then (say hourly): a proxy restarted right after a crash finds that
        /// crash's debris too young to remove at <see cref="Open(string)"/>.
        /// </summary>
        /// <returns>The number of files removed.</returns>
        /// <exception cref="SpoolException"><c>incoming/</c> cannot be listed
        /// (<see cref="SpoolErrorReason.Io"/>).</exception>
        public int RemoveDebris()
        {
            try
            {
                SpoolCleanup.RecoverSealed(Root, _sync);
                return SpoolCleanup.RemoveIncomingDebris(Root, _orphanAge, DateTime.UtcNow);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new SpoolException(null, SpoolErrors.ReasonFor(ex), ex);
            }
        }

        /// <summary>
        /// Starts a message with <paramref name="envelope"/> as its envelope: gives it a new id
        /// (set on <paramref name="envelope"/>), takes a slot in <c>incoming/</c> (or, with none
        /// free, creates <c>incoming/&lt;id&gt;.tmp</c>) and writes the envelope header into it. The caller then writes the message bytes to
        /// <see cref="IncomingMessage.Body"/>. The header is written now, once: changes made to
        /// <paramref name="envelope"/> afterwards are not stored.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="envelope"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="envelope"/> already has an id (it
        /// belongs to another message), or cannot be written (see
        /// <see cref="EnvelopeSerializer.Write"/>); no file was created.</exception>
        /// <exception cref="SpoolException">The file cannot be created or written
        /// (<see cref="SpoolErrorReason.Io"/>, or <see cref="SpoolErrorReason.Full"/>).</exception>
        public IncomingMessage BeginMessage(Envelope envelope)
        {
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            if (envelope.Id != null) throw new ArgumentException("The envelope already has an id.", nameof(envelope));

            var id = SpoolId.New();
            envelope.Id = id;
            byte[] header;
            try { header = MessageFile.EncodeHeader(envelope); }
            catch (ArgumentException) { envelope.Id = null; throw; }

            string path = null;
            FileStream file = null;
            try
            {
                long preallocated = 0;
                file = _slots?.TryTake(out path, out preallocated);
                var slotted = file != null;
                if (!slotted)
                {
                    path = SpoolLayout.IncomingPath(Root, id);
                    // CreateNew: ids are unique, so an existing file is a fault, never something to reuse.
                    // Unbuffered (bufferSize 1): the message's own writer buffers, in pooled memory.
                    file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
                }
                return new IncomingMessage(this, envelope, file, path, header, nameDurable: slotted, preallocated);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                envelope.Id = null;
                if (file != null)
                {
                    try { file.Dispose(); } catch (IOException) { }
                    FileRemoval.DeleteQuietly(path);
                }
                throw new SpoolException(id, SpoolErrors.ReasonFor(ex), ex);
            }
        }

        /// <summary>
        /// Makes <paramref name="message"/> durable and visible to the forwarder (see the class
        /// remarks for the steps), and sets <see cref="Envelope.Size"/> (the body's length) on its
        /// <see cref="IncomingMessage.Envelope"/>. Only once this returns may the client be told 250.
        /// </summary>
        /// <remarks>Cancellation is honoured until the file is renamed into <c>ready/</c>; after
        /// that the commit finishes, since the message may already be on its way.</remarks>
        /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="message"/> belongs to another writer.</exception>
        /// <exception cref="InvalidOperationException">The message was already committed, aborted
        /// or handed to a commit.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was
        /// cancelled: before the call, and the message stays open; or during the commit but
        /// before the commit point, and the message's file is gone.</exception>
        /// <exception cref="SpoolException">Writing, syncing or renaming failed
        /// (<see cref="SpoolErrorReason.Io"/> or <see cref="SpoolErrorReason.Full"/>); the
        /// message's file is gone (unless the forwarder had already taken it on, which makes a
        /// duplicate of the client's retry, never a loss) and the client must be told to try again.</exception>
        public Task CommitAsync(IncomingMessage message, CancellationToken cancellationToken = default)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (message.Writer != this) throw new ArgumentException("The message belongs to another spool writer.", nameof(message));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            if (!message.TryBeginCommit()) throw new InvalidOperationException("The message was already committed or aborted.");
            return CommitCoreAsync(message, cancellationToken);
        }

        async Task CommitCoreAsync(IncomingMessage message, CancellationToken cancellationToken)
        {
            var readyPath = SpoolLayout.MessagePath(Root, SpoolLayout.Ready, message.Id);
            var renamed = false;
            try
            {
                var size = await message.SyncAndCloseBodyAsync(DeviceFlush).ConfigureAwait(false);
                _slots?.Observe(size + message.HeaderLength);

                cancellationToken.ThrowIfCancellationRequested();
                await MoveToReadyAsync(message.TempPath, readyPath).ConfigureAwait(false);
                renamed = true;   // visible to the forwarder from here on
                // A slot's name was durable before the message: sealed and synced, the file
                // survives a crash in incoming/ or in ready/, and recovery finishes the rename.
                if (!message.NameDurable) await SyncDirectoryAsync(_readyDirectory).ConfigureAwait(false);

                message.Envelope.Size = size;
                message.EndCommit(succeeded: true);
                Counters.AddCommit();
            }
            catch (Exception ex)
            {
                message.EndCommit(succeeded: false);
                message.CloseBodyQuietly();
                FileRemoval.DeleteOrEmpty(message.TempPath);
                if (renamed) Retract(readyPath);
                Counters.AddFailure();
                if (ex is OperationCanceledException && !renamed && cancellationToken.IsCancellationRequested) throw;
                throw SpoolErrors.Wrap(message.Id, ex);
            }
        }

        /// <summary>
        /// Closes the pool of free slots (open files, see <see cref="IncomingSlots"/>), which stay
        /// in <c>incoming/</c> for the next writer. Messages already begun can still be committed;
        /// new ones create their own files. Idempotent.
        /// </summary>
        public void Dispose() => _slots?.Close();

        /// <summary>
        /// Abandons <paramref name="message"/>: closes and deletes its temporary file. Does
        /// nothing if it was already aborted, committed, or is being committed; never throws for
        /// file errors (what cannot be deleted now is debris for the next <see cref="Open(string)"/>).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="message"/> belongs to another writer.</exception>
        public void Abort(IncomingMessage message)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (message.Writer != this) throw new ArgumentException("The message belongs to another spool writer.", nameof(message));
            if (!message.TryBeginAbort()) return;
            message.CloseBodyQuietly();
            FileRemoval.DeleteOrEmpty(message.TempPath);
            Counters.AddAbort();
        }

        /// <summary>The commit's rename; if the file is gone from <c>incoming/</c> but in
        /// <c>ready/</c>, recovery in another process (or the sweep) finished it for us: it was
        /// sealed and synced, so that is a success.</summary>
        static async Task MoveToReadyAsync(string tempPath, string readyPath)
        {
            try
            {
                await DurableRename.MoveAsync(tempPath, readyPath).ConfigureAwait(false);
            }
            catch (FileNotFoundException) when (File.Exists(readyPath))
            {
            }
        }

        Task SyncDirectoryAsync(string directory) =>
            _committer == null ? Task.CompletedTask : _committer.FlushAsync(directory);

        /// <summary>
        /// Undoes a commit that failed after its rename (the sync of <c>ready/</c> failed, so the
        /// name may not be durable): deletes <c>ready/&lt;id&gt;.msg</c>. If the forwarder already
        /// moved it on, it stays and will be delivered, which makes a duplicate of the client's
        /// retry, never a loss.
        /// </summary>
        static void Retract(string readyPath) => FileRemoval.DeleteQuietly(readyPath);
    }
}
