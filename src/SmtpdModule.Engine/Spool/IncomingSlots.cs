using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Files in <c>incoming/</c> (<c>&lt;name&gt;.slot</c>) whose names were made durable ahead of
    /// time, a batch per directory fsync, so that a message written into one needs only its own
    /// sync before the 250 (see <see cref="SpoolWriter"/>). The pool holds its slots open and
    /// claimed (<see cref="SlotLock"/>), so a message takes one without a system call: the file
    /// keeps its durable name until the commit renames it into <c>ready/</c>, and no other
    /// writer, in this process or another, can take it meanwhile.
    /// </summary>
    /// <remarks>
    /// <para>The pool refills in the background when it runs low, with slots preallocated: zeros
    /// as long as the largest message of late, written out and made durable by the refill's
    /// directory fsync, so that a message written over them changes no metadata and its data
    /// sync (<see cref="FileDataSync"/>) needs no journal commit. A writer that finds the pool empty creates its file as before and pays
    /// for the directory fsync itself.</para>
    /// <para>A slot is free while its first byte is zero (or it is empty): a message's first byte
    /// is its header's. Free slots a stopped writer left, unclaimed once its files closed, are
    /// taken over by the next <see cref="Fill"/>, so they do not pile up. Each slot in the pool
    /// is an open file: <see cref="Capacity"/> descriptors per writer, given back by
    /// <see cref="Close"/>.</para>
    /// </remarks>
    internal sealed class IncomingSlots
    {
        public const string Extension = ".slot";

        internal const int Capacity = 128;
        internal const int LowWater = 64;
        const int Granule = 4096;                 // slot lengths are whole pages
        const int MaxPreallocated = 256 * 1024;   // larger messages grow their file as before

        static readonly byte[] Zeros = new byte[64 * 1024];

        readonly string _directory;
        readonly GroupCommitter _committer;
        readonly ConcurrentQueue<Slot> _free = new ConcurrentQueue<Slot>();
        int _refilling;
        int _closed;
        Task _refill = Task.CompletedTask;
        long _peak;       // the longest message file since the last refill
        long _lastPeak;   // and in the period before

        public IncomingSlots(string incomingDirectory, GroupCommitter committer)
        {
            _directory = incomingDirectory;
            _committer = committer ?? throw new ArgumentNullException(nameof(committer));
        }

        /// <summary>Free slots now (tests and diagnostics).</summary>
        public int Count => _free.Count;

        /// <summary>The latest refill, for tests to wait on.</summary>
        internal Task Refill => Volatile.Read(ref _refill);

        /// <summary>Takes over the free slots already there and makes new, empty ones up to
        /// capacity (opening a spool stays cheap; refills preallocate); one directory fsync makes
        /// all their names durable (a slot left by a process that stopped may not have been
        /// synced). Run when the spool opens, after crash recovery, which turns a slot that holds
        /// a message back into that message.</summary>
        /// <exception cref="IOException">The directory cannot be listed, a file cannot be
        /// created, or the fsync failed.</exception>
        public void Fill()
        {
            var found = new List<Slot>();
            try
            {
                foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
                    if (TryClaim(path, out var slot)) found.Add(slot);
                found.AddRange(Create(Capacity - found.Count, 0));
                _committer.FlushAsync(_directory).GetAwaiter().GetResult();
            }
            catch
            {
                foreach (var slot in found) slot.File.Dispose();
                throw;
            }
            foreach (var slot in found) _free.Enqueue(slot);
        }

        /// <summary>Gives back the free slots' files; they stay in <c>incoming/</c>, free, for the
        /// next writer. Slots taken for messages are closed by their commits.</summary>
        public void Close()
        {
            Volatile.Write(ref _closed, 1);
            while (_free.TryDequeue(out var slot)) slot.File.Dispose();
        }

        // Opens and claims a free slot another writer left; false if it is in use or holds a
        // message (the claim comes first, so no one can write into it after the check).
        static bool TryClaim(string path, out Slot slot)
        {
            slot = default;
            FileStream file = null;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1);
                if (SlotLock.TryTake(file) && IsFree(file))
                {
                    file.Position = 0;
                    slot = new Slot(path, file.Length, file);
                    return true;
                }
            }
            catch (IOException) { }                 // in use (the runtime's own lock), or gone
            catch (UnauthorizedAccessException) { }
            file?.Dispose();
            return false;
        }

        /// <summary>Whether the slot file at <paramref name="path"/> is free; false for one that
        /// holds a message, or cannot be read.</summary>
        public static bool IsFree(string path)
        {
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1))
                    return IsFree(file);
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        // Empty, or its first byte zero (read from the start: a message's first byte is its header's).
        static bool IsFree(FileStream file) => file.Length == 0 || file.ReadByte() == 0;

        /// <summary>Takes a free slot: its open, claimed file, at its start; null when there is
        /// none. Starts a refill when low.</summary>
        /// <param name="path">The slot's file in <c>incoming/</c>, the message's until its commit.</param>
        /// <param name="preallocated">The slot's length: bytes a message written into it must
        /// overwrite or cut.</param>
        public FileStream TryTake(out string path, out long preallocated)
        {
            FileStream file = null;
            path = null;
            preallocated = 0;
            if (_free.TryDequeue(out var slot))
            {
                file = slot.File;
                path = slot.Path;
                preallocated = slot.Length;
            }
            if (_free.Count < LowWater && Volatile.Read(ref _closed) == 0 && Interlocked.CompareExchange(ref _refilling, 1, 0) == 0)
                Volatile.Write(ref _refill, Task.Run(RefillAsync));
            return file;
        }

        /// <summary>Notes a committed message file's length, which sizes the next slots.</summary>
        public void Observe(long fileLength)
        {
            var peak = Volatile.Read(ref _peak);
            while (fileLength > peak)
            {
                var seen = Interlocked.CompareExchange(ref _peak, fileLength, peak);
                if (seen == peak) return;
                peak = seen;
            }
        }

        async Task RefillAsync()
        {
            try
            {
                var made = Create(Capacity - _free.Count, NextLength());
                if (made.Count == 0) return;
                try
                {
                    await _committer.FlushAsync(_directory).ConfigureAwait(false);
                }
                catch
                {
                    foreach (var slot in made) slot.File.Dispose();
                    throw;
                }
                foreach (var slot in made) _free.Enqueue(slot);
                if (Volatile.Read(ref _closed) != 0) Close();   // closed while this refill ran
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                // The disk is full or failing: writers fall back to making their own files, and
                // meet the error there, where it is answered.
            }
            finally
            {
                Volatile.Write(ref _refilling, 0);
            }
        }

        // As long as the longest message of the last two refill periods, in whole pages.
        long NextLength()
        {
            var peak = Interlocked.Exchange(ref _peak, 0);
            var longest = Math.Max(peak, _lastPeak);
            _lastPeak = peak;
            var pages = (longest + Granule - 1) / Granule;
            return Math.Min(Math.Max(pages, 1) * Granule, MaxPreallocated);
        }

        // Creates and claims the slot files, zeros of the given length in each, and leaves them
        // open at their start. Their names become durable with the caller's directory fsync;
        // their blocks are written out, and one data sync makes all the allocations durable (see
        // FileDataSync.WriteOut).
        List<Slot> Create(int count, long length)
        {
            var made = new List<Slot>();
            try
            {
                for (var i = 0; i < count; i++)
                {
                    var path = Path.Combine(_directory, SpoolId.New() + Extension);
                    var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1);
                    bool ours;
                    try { ours = SlotLock.TryTake(file); }
                    catch { file.Dispose(); throw; }
                    if (!ours)
                    {
                        // Another writer's Fill found it the moment it appeared and claimed it: theirs.
                        file.Dispose();
                        continue;
                    }
                    made.Add(new Slot(path, length, file));
                    for (long left = length; left > 0; left -= Zeros.Length)
                        file.Write(Zeros, 0, (int)Math.Min(Zeros.Length, left));
                }
                if (length > 0)
                {
                    foreach (var slot in made) FileDataSync.WriteOut(slot.File);
                    // The last file's allocation is in the latest journal transaction: one commit
                    // for it makes all of them durable (a journal commits in order). Without a
                    // journal it writes the last inode only; there each message syncs its own file
                    // (DeviceFlush.For gives no shared flush), which writes its slot's inode too.
                    if (made.Count > 0) FileDataSync.Flush(made[made.Count - 1].File);
                    foreach (var slot in made) slot.File.Position = 0;
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                // A disk that fills up part way: what was made is no use to anyone.
                foreach (var slot in made)
                {
                    try { slot.File.Dispose(); }
                    catch (IOException) { }
                    try { File.Delete(slot.Path); }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                }
                throw;
            }
            return made;
        }

        readonly struct Slot
        {
            public Slot(string path, long length, FileStream file)
            {
                Path = path;
                Length = length;
                File = file;
            }

            public string Path { get; }
            public long Length { get; }
            public FileStream File { get; }
        }
    }
}
