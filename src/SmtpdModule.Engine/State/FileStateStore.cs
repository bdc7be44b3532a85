using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The embedded state store that survives a restart and a crash: <see cref="MemoryStateStore"/>'s
    /// index (<see cref="StateTable"/>: the bound, the expiry order, volatile-ttl eviction) with an
    /// append-only journal behind it, in a folder of its own, for one process.
    /// </summary>
    /// <remarks>
    /// <para><b>Why a journal of results.</b> Every change the index makes (a key now holds this
    /// value until this UTC tick, or a key is gone) is encoded as one record, in the order made,
    /// under the lock that made it, and written with one write(2) before the operation's task
    /// completes. Records carry results, not commands (an increment is written as the number it
    /// produced with the key's expiry), so replaying them needs neither the old clock nor the
    /// racing callers, and an expired entry is never replayed as live: its absolute expiry says
    /// so. Appending is the one write pattern a crash cannot turn into a mixture of old and new
    /// bytes: the only damage a crash leaves is a record cut short at the end. Each record has a
    /// length and a CRC-32 (<see cref="StateJournalFormat"/>), so on open the journal is replayed
    /// up to the first torn or damaged record, the file is cut there, and nothing after it is
    /// guessed at (<see cref="Recovery"/> says what was found).</para>
    /// <para><b>Durability.</b> A write reaches the operating system before its task completes,
    /// so a killed process (SIGKILL, a crash, Stop-Process) loses nothing acknowledged. The file is
    /// fsynced at most every <see cref="FileStateStoreOptions.SyncInterval"/> (1 s) when it has
    /// changed, from a timer, on a second handle and without the store's lock: a power loss
    /// takes at most that interval's writes, and then only whole records at the end. What is
    /// kept is greylisting and counters, where losing a second is a retried delivery, while an
    /// fsync per operation would cap the store at the disk's sync rate.</para>
    /// <para><b>Compaction.</b> When the journal is over <see cref="FileStateStoreOptions.CompactionFloorBytes"/>
    /// and over twice the size the live entries would take, the live entries are rewritten as a
    /// new journal: under the lock only the list of live entries is copied (and records written
    /// from then on are also kept aside); the new file <c>state.journal.new</c> is written and
    /// fsynced outside the lock while callers go on writing to the old journal; then, under the
    /// lock again, the few records kept aside since are appended to it, it replaces
    /// <c>state.journal</c> by one rename over the existing name (rename(2) on Unix, then an
    /// fsync of the folder; MoveFileEx with REPLACE_EXISTING and WRITE_THROUGH on Windows), and
    /// appends continue in it. A crash at any step leaves a store that opens: until the rename,
    /// <c>state.journal</c> is the old, complete journal and a leftover <c>.new</c> is deleted at
    /// open; a <c>.new</c> with no <c>state.journal</c> beside it was complete and synced before
    /// it could be renamed, so it is taken. Disk use stays within about three times the live data (the journal up to
    /// twice it, plus a new file while one is written), plus what callers write while a
    /// compaction runs: a burst can outrun one, and the next write or tick starts another.</para>
    /// <para><b>Bounds.</b> At most <see cref="MaxEntries"/> entries, evicted as in
    /// <see cref="MemoryStateStore"/>, evictions journaled like removals. Keys up to
    /// <see cref="MaxKeyBytes"/> and values up to <see cref="MaxValueBytes"/> bytes of UTF-8: a
    /// greylist key is a network and two addresses of at most 256 octets each (RFC 5321
    /// §4.5.3.1.3), a counter is 20 digits. Expired entries are swept in the background so the
    /// live-size account, and memory, follow the clock.</para>
    /// <para><b>One store per folder.</b> The store holds a byte-range lock on <c>state.lock</c>
    /// for its lifetime (beyond the file's end, so copying the folder still works); a second store on
    /// the folder, in this process or another, fails to open with <see cref="StateStoreLockedException"/>.
    /// The lock goes with the process, so a crashed owner never blocks the next start.</para>
    /// <para><b>Failures.</b> If a journal write or fsync fails (a full disk), the operation in
    /// hand fails with <see cref="IOException"/> (it may or may not have taken effect, as with a
    /// Redis command whose reply was lost), and further writes are refused with
    /// <see cref="IOException"/> until a compaction has rewritten the journal from memory; one is
    /// tried at each sync tick. Reads go on from memory. <see cref="BackgroundError"/> reports it.</para>
    /// </remarks>
    public sealed partial class FileStateStore : IStateStore, IDisposable
    {
        /// <summary>The longest key, in UTF-8 bytes, a write accepts.</summary>
        public const int MaxKeyBytes = 1024;

        /// <summary>The longest value, in UTF-8 bytes, a write accepts.</summary>
        public const int MaxValueBytes = 4096;

        /// <summary>The journal's name in the folder.</summary>
        public const string JournalFileName = "state.journal";

        /// <summary>The lock file's name in the folder.</summary>
        public const string LockFileName = "state.lock";

        /// <summary>The suffix of a journal being written by a compaction.</summary>
        public const string NewSuffix = ".new";

        // Most expired entries one sweep drops, so a sweep holds the lock only briefly.
        const int SweepBatch = 4096;

        // Lock order: _syncGate before _gate, never the other way. _gate guards the table, the
        // current journal's appends, _pending, _fault and the counters; _syncGate guards which
        // journal is current against the fsync timer and Dispose, so the timer's fsync never
        // holds _gate.
        readonly object _gate = new object();
        readonly object _syncGate = new object();
        readonly StateTable _table;
        readonly ISystemClock _clock;
        readonly StateRecordBuffer _batch = new StateRecordBuffer();
        readonly FileStream _lock;
        readonly Timer _timer;
        readonly TimeSpan _syncInterval;
        readonly long _compactionFloor;
        readonly string _journalPath;

        StateJournalFile _journal;
        long _liveBytes;           // the size a compacted journal would have, header aside
        bool _replaying;           // while opening: changes are the journal's own, not to be written again
        int _replayEvictions;
        List<byte[]> _pending;     // while a compaction runs: records it must copy to the new file
        bool _compacting;
        Task _compaction = Task.CompletedTask;
        Exception _fault;          // the journal no longer matches memory; writes refused until compacted
        long _appended, _synced;   // records written, and how many of them the last fsync covered
        long _compactions;
        bool _disposed;

        /// <summary>Opens the store in <paramref name="directory"/> (created if missing), replaying
        /// its journal; a new folder starts empty.</summary>
        /// <param name="directory">The store's own folder: <c>state.journal</c>, <c>state.lock</c>,
        /// and, briefly, <c>state.journal.new</c> live there.</param>
        /// <param name="options">Null for the defaults.</param>
        /// <exception cref="ArgumentNullException"><paramref name="directory"/> is null.</exception>
        /// <exception cref="ArgumentOutOfRangeException">An option is out of range: MaxEntries below 1,
        /// SyncInterval not positive or over an hour, CompactionFloorBytes negative.</exception>
        /// <exception cref="StateStoreLockedException">Another open store holds the folder.</exception>
        /// <exception cref="InvalidDataException"><c>state.journal</c> is not a journal of this format.</exception>
        /// <exception cref="IOException">The folder or its files could not be read or written.</exception>
        /// <exception cref="UnauthorizedAccessException">Access to the folder was refused.</exception>
        public FileStateStore(string directory, FileStateStoreOptions options = null)
        {
            if (directory == null) throw new ArgumentNullException(nameof(directory));
            options = options ?? new FileStateStoreOptions();
            if (options.MaxEntries < 1) throw new ArgumentOutOfRangeException(nameof(options), options.MaxEntries, "MaxEntries: at least one entry");
            if (options.SyncInterval <= TimeSpan.Zero || options.SyncInterval > TimeSpan.FromHours(1))
                throw new ArgumentOutOfRangeException(nameof(options), options.SyncInterval, "SyncInterval must be positive and at most an hour");
            if (options.CompactionFloorBytes < 0) throw new ArgumentOutOfRangeException(nameof(options), options.CompactionFloorBytes, "CompactionFloorBytes must not be negative");

            Directory = Path.GetFullPath(directory);
            _journalPath = Path.Combine(Directory, JournalFileName);
            _clock = options.Clock ?? SystemClock.Instance;
            _syncInterval = options.SyncInterval;
            _compactionFloor = options.CompactionFloorBytes;
            _table = new StateTable(options.MaxEntries, new Observer(this));

            System.IO.Directory.CreateDirectory(Directory);
            _lock = TakeLock(Directory);
            try
            {
                Recovery = Open();
                if (_replayEvictions > 0 || ShouldCompact())
                {
                    // Entries the replay evicted are still in the file, and an earlier eviction
                    // could bring them back after another restart; rewrite now. Same for a
                    // journal that outgrew its bound while it was closed.
                    lock (_gate) _compacting = true;
                    Compact();
                }
            }
            catch
            {
                _journal?.Dispose();
                ReleaseLock();
                throw;
            }
            // Armed after the field is set: the callback re-arms it through the field.
            _timer = new Timer(OnTimer, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timer.Change(_syncInterval, Timeout.InfiniteTimeSpan);
        }

        /// <summary>The store's folder, as a full path.</summary>
        public string Directory { get; }

        /// <summary>What opening found at the end of the journal.</summary>
        public StateJournalRecovery Recovery { get; }

        /// <summary>The most entries held at once.</summary>
        public int MaxEntries => _table.MaxEntries;

        /// <summary>Entries held now, counting expired ones not yet dropped; never above <see cref="MaxEntries"/>.</summary>
        public int Count { get { lock (_gate) return _table.Count; } }

        /// <summary>The journal's size in bytes.</summary>
        public long JournalLength { get { lock (_gate) return _journal?.Length ?? 0; } }

        /// <summary>Compactions completed since open.</summary>
        public long Compactions => Interlocked.Read(ref _compactions);

        /// <summary>Why writes are being refused, or null when they are not.</summary>
        public Exception Fault { get { lock (_gate) return _fault; } }

        /// <summary>A failure on a background thread: an fsync, a compaction, a sweep. Raised on
        /// that thread; the store goes on (see <see cref="Fault"/>).</summary>
        public event EventHandler<ErrorEventArgs> BackgroundError;

        /// <inheritdoc/>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task<string> GetAsync(string key, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<string>(cancellationToken);
            lock (_gate)
            {
                ThrowIfDisposed();
                return Task.FromResult(_table.Get(key, Now()));   // an expired drop writes nothing
            }
        }

        /// <inheritdoc/>
        /// <exception cref="ArgumentException">The key or value is longer than <see cref="MaxKeyBytes"/>
        /// or <see cref="MaxValueBytes"/> in UTF-8, or has no UTF-8 form (a lone surrogate).</exception>
        /// <exception cref="IOException">The journal could not be written (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task SetAsync(string key, string value, TimeSpan? ttl, CancellationToken cancellationToken = default)
        {
            CheckEntry(key, value);
            if (ttl != null) StateArguments.CheckTtl(ttl.Value, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            lock (_gate)
            {
                long now = BeginWrite();
                _table.Set(key, value, ttl == null ? StateTable.Never : StateTable.ExpiryOf(now, ttl.Value), now);
                var failed = Commit();
                return failed == null ? Task.CompletedTask : Task.FromException(failed);
            }
        }

        /// <inheritdoc/>
        /// <exception cref="ArgumentException">The key or value is longer than <see cref="MaxKeyBytes"/>
        /// or <see cref="MaxValueBytes"/> in UTF-8, or has no UTF-8 form (a lone surrogate).</exception>
        /// <exception cref="IOException">The journal could not be written (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task<bool> SetIfAbsentAsync(string key, string value, TimeSpan ttl, CancellationToken cancellationToken = default)
        {
            CheckEntry(key, value);
            StateArguments.CheckTtl(ttl, nameof(ttl));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
            {
                long now = BeginWrite();
                bool stored = _table.SetIfAbsent(key, value, StateTable.ExpiryOf(now, ttl), now);
                var failed = Commit();
                return failed == null ? Task.FromResult(stored) : Task.FromException<bool>(failed);
            }
        }

        /// <inheritdoc/>
        /// <exception cref="ArgumentException">The key is longer than <see cref="MaxKeyBytes"/> in
        /// UTF-8, or has no UTF-8 form.</exception>
        /// <exception cref="IOException">The journal could not be written (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task<long> IncrementAsync(string key, long delta, TimeSpan ttlOnCreate, CancellationToken cancellationToken = default)
        {
            CheckEntry(key, "");
            StateArguments.CheckTtl(ttlOnCreate, nameof(ttlOnCreate));
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<long>(cancellationToken);
            lock (_gate)
            {
                long now = BeginWrite();
                long sum;
                try { sum = _table.Increment(key, delta, StateTable.ExpiryOf(now, ttlOnCreate), now); }
                catch (StateValueException ex) { return Task.FromException<long>(ex); }   // nothing changed, nothing to write
                var failed = Commit();
                return failed == null ? Task.FromResult(sum) : Task.FromException<long>(failed);
            }
        }

        /// <inheritdoc/>
        /// <exception cref="IOException">The journal could not be written (in the task).</exception>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task<bool> RemoveAsync(string key, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckKey(key);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<bool>(cancellationToken);
            lock (_gate)
            {
                long now = BeginWrite();
                bool removed = _table.Remove(key, now);
                var failed = Commit();
                return failed == null ? Task.FromResult(removed) : Task.FromException<bool>(failed);
            }
        }

        /// <inheritdoc/>
        /// <exception cref="ObjectDisposedException">The store was disposed.</exception>
        public Task<IReadOnlyList<StateEntry>> ListAsync(string prefix, int limit, CancellationToken cancellationToken = default)
        {
            StateArguments.CheckList(prefix, limit);
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<IReadOnlyList<StateEntry>>(cancellationToken);
            lock (_gate)
            {
                ThrowIfDisposed();
                return Task.FromResult<IReadOnlyList<StateEntry>>(_table.List(prefix, limit, Now()));
            }
        }

        /// <summary>Waits for a compaction in progress, fsyncs the journal and closes it and the lock
        /// file. A store never disposed loses at most the last sync interval on a power loss, and
        /// nothing on a crash.</summary>
        public void Dispose()
        {
            Task compaction;
            lock (_syncGate)
            lock (_gate)
            {
                if (_disposed) return;
                _disposed = true;
                compaction = _compaction;
            }
            _timer.Dispose();
            try { compaction.Wait(); } catch (AggregateException) { }   // its failure was reported already
            lock (_syncGate)
            {
                try { _journal?.Sync(); }
                catch (IOException ex) { Report(ex); }
                _journal?.Dispose();
                _journal = null;
            }
            ReleaseLock();
        }

        long Now() => _clock.UtcNow.UtcTicks;

        void ThrowIfDisposed()
        {
            if (_disposed) throw new ObjectDisposedException(nameof(FileStateStore));
        }

        // Under _gate, before an operation that may change the table.
        long BeginWrite()
        {
            ThrowIfDisposed();
            var fault = _fault ?? (_journal == null ? new IOException("no journal is open") : null);
            if (fault != null) throw new IOException("state journal in '" + Directory + "' cannot be written: " + fault.Message, fault);
            _batch.Clear();
            return Now();
        }

        // Under _gate, after the table changed: writes what the observer encoded, in one write.
        // Returns the failure for the caller's task rather than throwing, as the table has
        // already changed and the lock must be left normally.
        Exception Commit()
        {
            if (_batch.Count == 0) return null;
            _pending?.Add(_batch.ToArray());   // before the write: if the write fails, memory still has the change
            try
            {
                _journal.Append(_batch.Bytes, _batch.Count);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ObjectDisposedException)
            {
                _fault = ex;
                StartCompaction();   // rewrites the journal from memory; retried at each tick until it works
                return new IOException("state journal in '" + Directory + "' could not be written: " + ex.Message, ex);
            }
            _appended++;
            if (ShouldCompact()) StartCompaction();
            return null;
        }

        // Under _gate or before the store is shared.
        bool ShouldCompact() =>
            !_compacting && _journal != null && _journal.Length > _compactionFloor
            && _journal.Length > 2 * (StateJournalFormat.Header.Length + _liveBytes);

        void Report(Exception ex)
        {
            try { BackgroundError?.Invoke(this, new ErrorEventArgs(ex)); }
            catch (Exception) { }   // a handler's fault must not stop the sync timer
        }

        // Sees each change of the table, under _gate: keeps the live-size account and encodes
        // what must be journaled into the operation's batch.
        sealed class Observer : IStateTableObserver
        {
            readonly FileStateStore _store;

            public Observer(FileStateStore store) { _store = store; }

            public void Stored(string key, string value, long expiresAt, string previous)
            {
                _store._liveBytes += StateJournalFormat.PutSize(key, value) - (previous == null ? 0 : StateJournalFormat.PutSize(key, previous));
                if (!_store._replaying) _store._batch.AppendPut(key, value, expiresAt);
            }

            public void Dropped(string key, string value, StateDrop why)
            {
                _store._liveBytes -= StateJournalFormat.PutSize(key, value);
                if (_store._replaying)
                {
                    if (why == StateDrop.Evicted) _store._replayEvictions++;
                }
                else if (why != StateDrop.Expired)
                    _store._batch.AppendRemove(key);   // an expired entry is dead in the file already: its record says until when
            }
        }
    }
}
