using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
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
    /// <b>Commit order</b> (each step only after the previous one succeeded):
    /// 1. body to <c>incoming/&lt;id&gt;.eml.tmp</c>, fsync, close (checked);
    /// 2. envelope to <c>incoming/&lt;id&gt;.env.tmp</c>, fsync, close;
    /// 3. rename the body to <c>data/&lt;id&gt;.eml</c>;
    /// 4. fsync <c>data/</c>;
    /// 5. rename the envelope to <c>ready/&lt;id&gt;.env</c>: the commit point;
    /// 6. fsync <c>ready/</c>; only then the commit returns and the SMTP layer says 250.
    /// Syncing <c>data/</c> before step 5 rather than at the end gives the forwarder an invariant:
    /// an envelope in any state directory, on disk, always has its data file on disk. Writing the
    /// envelope before the body's rename means that while the data file has no envelope in a
    /// state directory, its envelope is in <c>incoming/</c>: that is how the debris sweep tells a
    /// commit in progress from a crashed one (see <see cref="RemoveDebris"/>).
    /// </para>
    /// <para>
    /// <b>What it trusts.</b> That fsync means what POSIX says (true for ext4, XFS, Btrfs, ZFS on
    /// drives that honour cache flushes; on macOS fsync does not flush the drive's cache); that
    /// rename within one directory tree is atomic; and that the spool root is used by SmtpdModule
    /// only, with the forwarder keeping its side of the layout: an envelope moves between state
    /// directories by a single rename, and is deleted before its data file.
    /// </para>
    /// <para>Thread-safe: sessions begin and commit messages concurrently.</para>
    /// </remarks>
    public sealed class SpoolWriter
    {
        /// <summary>How old a file in <c>incoming/</c>, or a data file without any envelope, must
        /// be before the debris sweep (<see cref="Open(string)"/>, <see cref="RemoveDebris"/>)
        /// removes it. Correctness does not depend on it (see <c>SpoolCleanup</c>); it keeps the
        /// sweep from failing a concurrent commit that is between two steps, which takes
        /// milliseconds.</summary>
        public static readonly TimeSpan OrphanAge = TimeSpan.FromMinutes(10);

        const int BodyBufferSize = 64 * 1024;
        static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        readonly string _dataDirectory;
        readonly string _readyDirectory;
        readonly GroupCommitter _committer;   // null: renames are durable by themselves (Windows)
        readonly TimeSpan _orphanAge;

        SpoolWriter(string root, TimeSpan orphanAge, GroupCommitter committer, SpoolCounters counters)
        {
            Root = root;
            _orphanAge = orphanAge;
            _dataDirectory = Path.Combine(root, SpoolLayout.Data);
            _readyDirectory = Path.Combine(root, SpoolLayout.Ready);
            _committer = committer;
            Counters = counters;
        }

        /// <summary>The full path of the spool root.</summary>
        public string Root { get; }

        /// <summary>Counts of commits, aborts and directory fsyncs since <see cref="Open(string)"/>.</summary>
        public SpoolCounters Counters { get; }

        /// <summary>
        /// Bytes available to this process on the spool's volume, so the receiver can answer
        /// <c>452 4.3.1</c> before accepting a message it could not store.
        /// </summary>
        /// <exception cref="SpoolException">The volume cannot be queried (<see cref="SpoolErrorReason.Io"/>).</exception>
        public long FreeBytes
        {
            get
            {
                try
                {
                    return HostOsInfo.IsWindows ? WindowsFileApi.FreeBytes(Root) : new DriveInfo(Root).AvailableFreeSpace;
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException)
                {
                    throw new SpoolException(null, SpoolErrorReason.Io, ex);
                }
            }
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
        /// holds, and data files that have no envelope (see <see cref="RemoveDebris"/>).
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="root"/> is null, empty or not a valid path.</exception>
        /// <exception cref="SpoolException">The spool cannot be created or cleaned
        /// (<see cref="SpoolErrorReason.Io"/> or <see cref="SpoolErrorReason.Full"/>).</exception>
        public static SpoolWriter Open(string root) => Open(root, OrphanAge, null);

        /// <param name="root">The spool root.</param>
        /// <param name="orphanAge">See <see cref="OrphanAge"/>.</param>
        /// <param name="syncDirectory">Replaces <see cref="DirectorySync.Flush"/> (tests); when
        /// given, directories are synced through the group committer on every platform.</param>
        internal static SpoolWriter Open(string root, TimeSpan orphanAge, Action<string> syncDirectory)
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
                CreateLayout(full, sync);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new SpoolException(null, SpoolErrors.ReasonFor(ex), ex);
            }
            var writer = new SpoolWriter(full, orphanAge, committer, counters);
            writer.RemoveDebris();
            return writer;
        }

        /// <summary>
        /// Removes crash debris, as <see cref="Open(string)"/> does: files in <c>incoming/</c> that
        /// no live writer holds, and data files without an envelope, in both cases only when older
        /// than <see cref="OrphanAge"/>. Safe at any time, with commits in progress here or in other
        /// processes (see <c>SpoolCleanup</c> for why). Call it now and then (say hourly): a proxy
        /// restarted right after a crash finds that crash's debris too young to remove at
        /// <see cref="Open(string)"/>.
        /// </summary>
        /// <returns>The number of files removed.</returns>
        /// <exception cref="SpoolException">A spool directory cannot be listed
        /// (<see cref="SpoolErrorReason.Io"/>).</exception>
        public int RemoveDebris()
        {
            try
            {
                var now = DateTime.UtcNow;
                return SpoolCleanup.RemoveIncomingDebris(Root, _orphanAge, now)
                       + SpoolCleanup.RemoveOrphanData(Root, _orphanAge, now);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw new SpoolException(null, SpoolErrors.ReasonFor(ex), ex);
            }
        }

        /// <summary>Starts a message: creates <c>incoming/&lt;id&gt;.eml.tmp</c> (mode 0600 on Unix)
        /// under a new id.</summary>
        /// <exception cref="SpoolException">The file cannot be created (<see cref="SpoolErrorReason.Io"/>,
        /// or <see cref="SpoolErrorReason.Full"/>).</exception>
        public IncomingMessage BeginMessage()
        {
            var id = SpoolId.New();
            var path = SpoolLayout.IncomingMessagePath(Root, id);
            FileStream file = null;
            try
            {
                // CreateNew: ids are unique, so an existing file is a fault, never something to reuse.
                file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, BodyBufferSize);
                UnixPermissions.Restrict(path, UnixPermissions.PrivateFile);
                return new IncomingMessage(this, id, file, path, SpoolLayout.IncomingEnvelopePath(Root, id));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                if (file != null)
                {
                    try { file.Dispose(); } catch (IOException) { }
                    DeleteQuietly(path);
                }
                throw new SpoolException(id, SpoolErrors.ReasonFor(ex), ex);
            }
        }

        /// <summary>
        /// Makes <paramref name="message"/> durable and visible to the forwarder, with
        /// <paramref name="envelope"/> as its envelope (see the class remarks for the steps). Sets
        /// <see cref="Envelope.Id"/> and <see cref="Envelope.Size"/> (the body's length) on
        /// <paramref name="envelope"/>. Only once this returns may the client be told 250.
        /// </summary>
        /// <remarks>Cancellation is honoured until the envelope is renamed into <c>ready/</c>; after
        /// that the commit finishes, since the message may already be on its way.</remarks>
        /// <exception cref="ArgumentNullException">An argument is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="message"/> belongs to another
        /// writer, <paramref name="envelope"/> has another id, or the envelope cannot be written
        /// (see <see cref="EnvelopeSerializer.Write"/>).</exception>
        /// <exception cref="InvalidOperationException">The message was already committed, aborted
        /// or handed to a commit.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was
        /// cancelled before the commit point; the message's files are gone.</exception>
        /// <exception cref="SpoolException">Writing, syncing or renaming failed
        /// (<see cref="SpoolErrorReason.Io"/> or <see cref="SpoolErrorReason.Full"/>); the
        /// message's files are gone and the client must be told to try again.</exception>
        public Task CommitAsync(IncomingMessage message, Envelope envelope, CancellationToken cancellationToken = default)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (envelope == null) throw new ArgumentNullException(nameof(envelope));
            if (message.Writer != this) throw new ArgumentException("The message belongs to another spool writer.", nameof(message));
            if (envelope.Id != null && envelope.Id != message.Id)
                throw new ArgumentException("The envelope's id is not the message's.", nameof(envelope));

            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);

            // Check the envelope before any file moves: a refusal here leaves the message open, to be
            // committed with a fixed envelope or aborted.
            var originalId = envelope.Id;
            envelope.Id = message.Id;
            try { EnvelopeSerializer.Validate(envelope); }
            catch (ArgumentException) { envelope.Id = originalId; throw; }

            if (!message.TryBeginCommit())
            {
                envelope.Id = originalId;
                throw new InvalidOperationException("The message was already committed or aborted.");
            }
            return CommitCoreAsync(message, envelope, cancellationToken);
        }

        async Task CommitCoreAsync(IncomingMessage message, Envelope envelope, CancellationToken cancellationToken)
        {
            var id = message.Id;
            var dataPath = SpoolLayout.DataPath(Root, id);
            var readyPath = SpoolLayout.EnvelopePath(Root, SpoolLayout.Ready, id);
            var dataMoved = false;
            var committed = false;
            try
            {
                envelope.Size = message.SyncAndCloseBody();
                WriteEnvelopeFile(message.EnvelopeTempPath, envelope);

                await DurableRename.MoveAsync(message.MessageTempPath, dataPath).ConfigureAwait(false);
                dataMoved = true;
                await SyncDirectoryAsync(_dataDirectory).ConfigureAwait(false);

                cancellationToken.ThrowIfCancellationRequested();
                await DurableRename.MoveAsync(message.EnvelopeTempPath, readyPath).ConfigureAwait(false);
                committed = true;   // visible to the forwarder from here on
                await SyncDirectoryAsync(_readyDirectory).ConfigureAwait(false);

                message.EndCommit(succeeded: true);
                Counters.AddCommit();
            }
            catch (Exception ex)
            {
                message.EndCommit(succeeded: false);
                message.CloseBodyQuietly();
                DeleteQuietly(message.MessageTempPath);
                DeleteQuietly(message.EnvelopeTempPath);
                if (dataMoved) Retract(id, dataPath, readyPath);
                Counters.AddFailure();
                if (ex is OperationCanceledException && !committed && cancellationToken.IsCancellationRequested) throw;
                throw SpoolErrors.Wrap(id, ex);
            }
        }

        /// <summary>
        /// Abandons <paramref name="message"/>: closes and deletes its temporary files. Does
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
            DeleteQuietly(message.MessageTempPath);
            DeleteQuietly(message.EnvelopeTempPath);
            Counters.AddAbort();
        }

        Task SyncDirectoryAsync(string directory) =>
            _committer == null ? Task.CompletedTask : _committer.FlushAsync(directory);

        static void WriteEnvelopeFile(string path, Envelope envelope)
        {
            using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096))
            {
                UnixPermissions.Restrict(path, UnixPermissions.PrivateFile);
                using (var writer = new StreamWriter(file, Utf8, 4096, leaveOpen: true))
                    EnvelopeSerializer.Write(writer, envelope);
                file.Flush(true);
            }
        }

        /// <summary>
        /// Undoes a failed commit whose data file had been renamed into place. The envelope may have
        /// reached <c>ready/</c> (a late failure); delete it, and the data only if no envelope is
        /// left anywhere: if the forwarder already took the envelope, the message stays and will be
        /// delivered, which makes a duplicate of the client's retry, never a loss.
        /// </summary>
        void Retract(string id, string dataPath, string readyPath)
        {
            DeleteQuietly(readyPath);
            foreach (var state in SpoolLayout.EnvelopeDirectories)
                if (File.Exists(SpoolLayout.EnvelopePath(Root, state, id))) return;
            DeleteQuietly(dataPath);
        }

        static void CreateLayout(string root, Action<string> sync)
        {
            var createdRoot = !Directory.Exists(root);
            if (createdRoot)
            {
                Directory.CreateDirectory(root);
                UnixPermissions.Restrict(root, UnixPermissions.PrivateDirectory);
            }
            var createdAny = false;
            foreach (var name in SpoolLayout.AllDirectories)
            {
                var path = Path.Combine(root, name);
                if (Directory.Exists(path)) continue;
                Directory.CreateDirectory(path);
                UnixPermissions.Restrict(path, UnixPermissions.PrivateDirectory);
                createdAny = true;
            }
            // New directory entries are as volatile as new file names: without these syncs a power
            // loss could take ready/ itself, with acknowledged mail in it.
            if (createdAny) sync(root);
            var parent = Path.GetDirectoryName(root);
            if (createdRoot && parent != null) sync(parent);
        }

        internal static void DeleteQuietly(string path)
        {
            try { File.Delete(path); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
