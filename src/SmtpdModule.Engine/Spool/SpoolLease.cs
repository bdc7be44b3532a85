using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A forwarder's membership of a spool: its own directory <c>active/&lt;owner&gt;/</c>, and the
    /// lock <c>owner.lock</c> in it held open for as long as the forwarder lives. Claiming a message
    /// is renaming it into that directory, so any number of forwarders can share a spool and a
    /// message is delivered by at most one of them at a time: of two renames of the same file,
    /// one fails.
    /// </summary>
    /// <remarks>
    /// <para><b>Recovery.</b> The lock is opened with <see cref="FileShare.None"/>: a sharing lock on
    /// Windows, an advisory <c>flock</c> on Unix, both released by the operating system when the
    /// process dies, however it dies. A directory under <c>active/</c> whose lock can be taken
    /// belongs to a dead forwarder, and <see cref="RecoverAbandoned()"/> gives its messages back:
    /// to <c>deferred/</c> when their record says they are not due yet, else to <c>ready/</c>.
    /// Recipients recorded as delivered stay delivered. The same holds if the runtime's file
    /// locking has been switched off by configuration, except that then a live forwarder's
    /// claims can be taken too, which makes duplicates; leave it on.</para>
    /// <para><b>Crash safety.</b> Every step is one rename or one whole-file replacement, ordered
    /// so that a crash between any two leaves the message in some state directory and its record
    /// no older than what the next hop acknowledged, apart from the window the forwarder
    /// documents: between the next hop's acknowledgment and <see cref="Finish"/>.</para>
    /// </remarks>
    public sealed class SpoolLease : IDisposable
    {
        readonly FileStream _lock;
        readonly string _directory;
        bool _disposed;

        SpoolLease(string root, string owner, string directory, FileStream lockFile)
        {
            Root = root;
            Owner = owner;
            _directory = directory;
            _lock = lockFile;
        }

        public string Root { get; }

        /// <summary>This forwarder's name in the spool (an id-shaped string: when it started, and random).</summary>
        public string Owner { get; }

        /// <summary>Joins the spool at <paramref name="root"/> as a new forwarder.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="SpoolException">No spool there (<see cref="SpoolErrorReason.NotFound"/>),
        /// or the directory cannot be made (<see cref="SpoolErrorReason.Io"/>).</exception>
        public static SpoolLease Acquire(string root)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            var full = Path.GetFullPath(root);
            if (!Directory.Exists(Path.Combine(full, SpoolLayout.Active))) throw new SpoolException(null, SpoolErrorReason.NotFound);
            for (var attempt = 0; ; attempt++)
            {
                var owner = SpoolId.New();
                var directory = SpoolLayout.OwnerDirectory(full, owner);
                try
                {
                    Directory.CreateDirectory(directory);
                    UnixPermissions.Restrict(directory, UnixPermissions.PrivateDirectory);
                    var lockFile = new FileStream(Path.Combine(directory, SpoolLayout.OwnerLockName), FileMode.OpenOrCreate,
                        FileAccess.ReadWrite, FileShare.None, 1);
                    return new SpoolLease(full, owner, directory, lockFile);
                }
                catch (IOException) when (attempt < 3)
                {
                    // A recovering forwarder took our fresh directory for a dead one's: start again
                    // under another name and let it remove this one.
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
                {
                    throw SpoolErrors.Wrap(null, ex);
                }
            }
        }

        /// <summary>
        /// Takes message <paramref name="id"/> from <paramref name="from"/> for delivery.
        /// </summary>
        /// <returns>The claimed message, or null when it is no longer in <paramref name="from"/>
        /// (another forwarder or an administrator moved it first).</returns>
        /// <exception cref="ArgumentException"><paramref name="from"/> is <see cref="SpoolState.Active"/>.</exception>
        /// <exception cref="ObjectDisposedException">The lease was disposed.</exception>
        /// <exception cref="SpoolException">The message's envelope or record cannot be read
        /// (<see cref="SpoolErrorReason.Corrupt"/>: it has been moved to <c>corrupt/</c>), or the
        /// rename failed (<see cref="SpoolErrorReason.Io"/>).</exception>
        public ClaimedMessage TryClaim(SpoolState from, string id)
        {
            if (from == SpoolState.Active) throw new ArgumentException("Active messages are claimed already.", nameof(from));
            if (_disposed) throw new ObjectDisposedException(nameof(SpoolLease));
            if (!SpoolId.IsValid(id)) return null;
            var source = SpoolLayout.MessagePath(Root, SpoolLayout.DirectoryOf(from), id);
            var claimed = SpoolLayout.ClaimedPath(Root, Owner, id);
            try
            {
                NoReplaceRename.Move(source, claimed);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException) { return null; }
            catch (IOException) when (!File.Exists(source)) { return null; }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(id, ex); }

            try
            {
                var envelope = SpoolReader.ReadEnvelope(claimed, id);
                return new ClaimedMessage(this, claimed, envelope, DeliveryStatusFile.Read(Root, id), from);
            }
            catch (SpoolException ex) when (ex.Reason == SpoolErrorReason.Corrupt)
            {
                MoveQuietly(claimed, SpoolLayout.MessagePath(Root, SpoolLayout.Corrupt, id));
                throw;
            }
            catch (SpoolException)
            {
                MoveQuietly(claimed, source);   // unreadable for now: leave it where it was
                throw;
            }
        }

        /// <summary>
        /// Ends an attempt: records <see cref="ClaimedMessage.Status"/> durably, then moves the
        /// message to <paramref name="next"/>; null means delivery is over and the message and its
        /// record are deleted.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="message"/> is another lease's, or
        /// <paramref name="next"/> is <see cref="SpoolState.Active"/>.</exception>
        /// <exception cref="SpoolException">The record or the rename failed; the message stays
        /// claimed, and is given back when this forwarder ends.</exception>
        public void Finish(ClaimedMessage message, SpoolState? next)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            if (message.Lease != this) throw new ArgumentException("The message was claimed by another lease.", nameof(message));
            if (next == SpoolState.Active) throw new ArgumentException("A message cannot stay active.", nameof(next));
            if (next == null)
            {
                // Deleting the message first: a crash before the record goes leaves only a record,
                // which RecoverAbandoned removes; the other order could resend delivered recipients.
                try { File.Delete(message.Path); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(message.Id, ex); }
                if (message.HasRecord) DeliveryStatusFile.Delete(Root, message.Id);
                return;
            }
            DeliveryStatusFile.Write(Root, message.Id, message.Status);
            try
            {
                NoReplaceRename.Move(message.Path, SpoolLayout.MessagePath(Root, SpoolLayout.DirectoryOf(next.Value), message.Id));
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(message.Id, ex); }
        }

        /// <summary>
        /// Gives back the messages of forwarders that died (see the class remarks), and removes
        /// delivery records whose message is gone. Safe to run at any time from any forwarder.
        /// </summary>
        /// <returns>How many messages were given back.</returns>
        /// <exception cref="SpoolException"><c>active/</c> cannot be listed.</exception>
        public int RecoverAbandoned() => RecoverAbandoned(DateTimeOffset.UtcNow);

        internal int RecoverAbandoned(DateTimeOffset now)
        {
            var recovered = 0;
            List<string> owners;
            try { owners = new List<string>(Directory.EnumerateDirectories(Path.Combine(Root, SpoolLayout.Active))); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(null, ex); }
            foreach (var directory in owners)
            {
                var owner = Path.GetFileName(directory);
                if (owner == Owner || !SpoolId.IsValid(owner)) continue;
                recovered += RecoverOwner(directory, now);
            }
            RemoveOrphanRecords(now);
            return recovered;
        }

        int RecoverOwner(string directory, DateTimeOffset now)
        {
            FileStream probe;
            try
            {
                probe = new FileStream(Path.Combine(directory, SpoolLayout.OwnerLockName), FileMode.OpenOrCreate,
                    FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                return 0;   // held: that forwarder is alive (or the directory just went away)
            }
            var recovered = 0;
            using (probe)
            {
                foreach (var path in Directory.GetFiles(directory, "*" + SpoolLayout.MessageExtension))
                {
                    var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.MessageExtension);
                    if (id == null) continue;
                    DeliveryStatus status = null;
                    try { status = DeliveryStatusFile.Read(Root, id); }
                    catch (SpoolException) { }   // the message itself is what matters; ready/ retries it
                    var state = status?.NextAttempt > now ? SpoolLayout.Deferred : SpoolLayout.Ready;
                    if (MoveQuietly(path, SpoolLayout.MessagePath(Root, state, id))) recovered++;
                }
            }
            try { Directory.Delete(directory); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }   // not empty: next time
            return recovered;
        }

        // A record outlives its message only when a crash came between the two deletions of
        // Finish or of a removal; the age spares a record being written for a message that
        // is between two directories.
        void RemoveOrphanRecords(DateTimeOffset now)
        {
            string[] files;
            try { files = Directory.GetFiles(Path.Combine(Root, SpoolLayout.Status)); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return; }
            foreach (var path in files)
            {
                try
                {
                    if (now.UtcDateTime - File.GetLastWriteTimeUtc(path) < SpoolWriter.OrphanAge) continue;
                    var name = Path.GetFileName(path);
                    var id = SpoolLayout.IdFromFileName(name, SpoolLayout.StatusExtension);
                    if (id != null && SpoolDirectory.Locate(Root, id) != null) continue;
                    if (id != null || name.EndsWith(".new", StringComparison.Ordinal)) File.Delete(path);
                }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
        }

        static bool MoveQuietly(string source, string destination)
        {
            try
            {
                NoReplaceRename.Move(source, destination);
                return true;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { return false; }
        }

        /// <summary>Leaves the spool: messages still claimed go back to <c>ready/</c>, the lock
        /// and the directory are removed.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                foreach (var path in Directory.GetFiles(_directory, "*" + SpoolLayout.MessageExtension))
                {
                    var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.MessageExtension);
                    if (id != null) MoveQuietly(path, SpoolLayout.MessagePath(Root, SpoolLayout.Ready, id));
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            _lock.Dispose();
            FileRemoval.DeleteQuietly(Path.Combine(_directory, SpoolLayout.OwnerLockName));
            try { Directory.Delete(_directory); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
        }
    }
}
