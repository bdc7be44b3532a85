using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Empty files in <c>incoming/</c> (<c>&lt;name&gt;.slot</c>) whose names were made durable
    /// ahead of time, a batch per directory fsync, so that a message written into one needs only
    /// its own fsync before the 250 (see <see cref="SpoolWriter"/>). A message takes a slot by
    /// renaming it to its own <c>&lt;id&gt;.tmp</c>: a rename keeps the file's durable place in the
    /// directory, whichever of the two names a crash leaves, and two writers (two processes on one
    /// spool) cannot both win it.
    /// </summary>
    /// <remarks>
    /// The pool refills in the background when it runs low; a writer that finds it empty creates
    /// its file as before and pays for the directory fsync itself. Slots a stopped writer left are
    /// taken over by the next <see cref="Fill"/>, so they do not pile up.
    /// </remarks>
    internal sealed class IncomingSlots
    {
        public const string Extension = ".slot";

        const int Capacity = 64;
        const int LowWater = 16;

        readonly string _directory;
        readonly GroupCommitter _committer;
        readonly ConcurrentQueue<string> _free = new ConcurrentQueue<string>();
        int _refilling;

        public IncomingSlots(string incomingDirectory, GroupCommitter committer)
        {
            _directory = incomingDirectory;
            _committer = committer ?? throw new ArgumentNullException(nameof(committer));
        }

        /// <summary>Free slots now (tests and diagnostics).</summary>
        public int Count => _free.Count;

        /// <summary>Takes over the empty slots already there and makes new ones up to capacity; one
        /// directory fsync makes all their names durable (a slot left by a process that stopped
        /// may not have been synced). Run when the spool opens, after crash recovery, which turns
        /// a slot that holds a message back into that message.</summary>
        /// <exception cref="IOException">The directory cannot be listed, a file cannot be
        /// created, or the fsync failed.</exception>
        public void Fill()
        {
            var found = new List<string>();
            foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
                if (new FileInfo(path).Length == 0) found.Add(path);
            found.AddRange(Create(Capacity - found.Count));
            _committer.FlushAsync(_directory).GetAwaiter().GetResult();
            foreach (var path in found) _free.Enqueue(path);
        }

        /// <summary>Renames a free slot to <paramref name="path"/>; false when there is none (or
        /// all the ones left were taken by someone else, or swept). Starts a refill when low.</summary>
        public bool TryTake(string path)
        {
            var taken = false;
            while (!taken && _free.TryDequeue(out var slot))
            {
                try
                {
                    NoReplaceRename.Move(slot, path);
                    taken = true;
                }
                catch (IOException) { }                 // gone: another writer won it
                catch (UnauthorizedAccessException) { }
            }
            if (_free.Count < LowWater && Interlocked.CompareExchange(ref _refilling, 1, 0) == 0)
                _ = Task.Run(RefillAsync);
            return taken;
        }

        async Task RefillAsync()
        {
            try
            {
                var made = Create(Capacity - _free.Count);
                if (made.Count == 0) return;
                await _committer.FlushAsync(_directory).ConfigureAwait(false);
                foreach (var path in made) _free.Enqueue(path);
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

        List<string> Create(int count)
        {
            var made = new List<string>();
            for (var i = 0; i < count; i++)
            {
                var path = Path.Combine(_directory, SpoolId.New() + Extension);
                using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1)) { }
                made.Add(path);
            }
            return made;
        }
    }
}
