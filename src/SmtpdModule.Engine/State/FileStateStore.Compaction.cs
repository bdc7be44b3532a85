using System;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.State
{
    /// <summary>The points a compaction passes, for tests that act between them.</summary>
    internal enum CompactionStep
    {
        /// <summary>The live entries were copied; the lock is free again.</summary>
        Copied,
        /// <summary>They are in the new file, not yet synced.</summary>
        Written,
        /// <summary>The new file is fsynced; next is the swap under the lock.</summary>
        Synced,
    }

    // Compaction, the group fsync and the expiry sweep: everything a background thread does.
    public sealed partial class FileStateStore
    {
        /// <summary>Called at each <see cref="CompactionStep"/>, on the compacting thread, no lock held.</summary>
        internal Action<CompactionStep> CompactionStepHook;

        // Records written since a compaction copied the table are also kept here, so the new
        // file gets them; the catch-up runs in rounds outside the lock until few are left.
        const int CatchUpRounds = 3;
        const int FewRecords = 64;

        // Under _gate.
        void StartCompaction()
        {
            if (_compacting || _disposed) return;
            _compacting = true;
            _compaction = Task.Run(() => Compact());
        }

        /// <summary>Makes the current journal's appends fail as a full disk would; a compaction's new
        /// journal is sound again. For tests.</summary>
        internal void BreakJournalForTests(IOException fault)
        {
            lock (_gate) _journal.FaultForTests = fault;
        }

        /// <summary>Completes when no compaction is running; for tests.</summary>
        internal async Task WhenIdleAsync()
        {
            while (true)
            {
                Task running;
                lock (_gate)
                {
                    if (!_compacting) return;
                    running = _compaction;
                }
                try { await running.ConfigureAwait(false); } catch (Exception) { }
            }
        }

        /// <summary>Compacts now, after any compaction in progress, and waits for it; for tests.</summary>
        internal void CompactNow()
        {
            Task running;
            while (true)
            {
                lock (_gate)
                {
                    ThrowIfDisposed();
                    if (!_compacting)
                    {
                        StartCompaction();
                        running = _compaction;
                        break;
                    }
                    running = _compaction;
                }
                try { running.Wait(); } catch (AggregateException) { }
            }
            running.Wait();
        }

        // Runs with _compacting set by the caller, and clears it. Failures are reported, never
        // thrown: the old journal stays in use, or, if none is open, writes stay refused.
        void Compact()
        {
            var newPath = _journalPath + NewSuffix;
            FileStream next = null;
            try
            {
                List<KeyValuePair<string, StateRecord>> live;
                lock (_gate)
                {
                    if (_disposed) return;
                    live = _table.CopyLive(Now());
                    _pending = new List<byte[]>();
                }
                CompactionStepHook?.Invoke(CompactionStep.Copied);

                next = new FileStream(newPath, FileMode.Create, FileAccess.Write, FileShare.Read | FileShare.Delete, 1 << 16);
                next.Write(StateJournalFormat.Header, 0, StateJournalFormat.Header.Length);
                var buffer = new StateRecordBuffer();
                foreach (var entry in live)
                {
                    buffer.AppendPut(entry.Key, entry.Value.Value, entry.Value.ExpiresAt);
                    if (buffer.Count < 1 << 16) continue;
                    next.Write(buffer.Bytes, 0, buffer.Count);
                    buffer.Clear();
                }
                next.Write(buffer.Bytes, 0, buffer.Count);
                live = null;
                CompactionStepHook?.Invoke(CompactionStep.Written);

                for (int round = 0; round < CatchUpRounds; round++)
                {
                    List<byte[]> caught;
                    lock (_gate)
                    {
                        caught = _pending;
                        _pending = new List<byte[]>();
                    }
                    foreach (var record in caught) next.Write(record, 0, record.Length);
                    if (caught.Count < FewRecords) break;
                }
                // The bulk must be on disk before its name replaces a journal that is.
                next.Flush(true);
                CompactionStepHook?.Invoke(CompactionStep.Synced);

                lock (_syncGate)
                lock (_gate)
                {
                    if (_disposed) return;
                    foreach (var record in _pending) next.Write(record, 0, record.Length);
                    next.Flush(false);
                    long length = next.Length;
                    next.Dispose();
                    next = null;

                    // Closed before the replace: Windows will not replace a file open without
                    // FILE_SHARE_DELETE, and nothing in it is missing from the new file.
                    bool hadJournal = _journal != null;
                    long oldLength = _journal?.Length ?? 0;
                    _journal?.Dispose();
                    _journal = null;
                    try
                    {
                        Install(newPath);
                    }
                    catch when (File.Exists(_journalPath) && File.Exists(newPath))
                    {
                        // Not replaced: the old journal is whole up to where its last good record
                        // ended; go on with it (if none was open, writes stay refused).
                        if (hadJournal) _journal = StateJournalFile.Open(_journalPath, oldLength);
                        throw;
                    }
                    catch when (File.Exists(_journalPath))
                    {
                        // The new file is in place, whatever the error said; carry on below.
                    }
                    _journal = StateJournalFile.Open(_journalPath, length);
                    _pending = null;
                    _fault = null;
                    // The records appended just now reached the OS but not the disk: the next
                    // tick syncs them, as it would have in the old journal.
                    _appended++;
                }
                Interlocked.Increment(ref _compactions);
                DirectorySync.Flush(Directory);   // the rename itself; a failure here is reported, nothing is lost yet
            }
            catch (Exception ex)
            {
                Report(ex);
            }
            finally
            {
                next?.Dispose();
                lock (_gate)
                {
                    _pending = null;
                    _compacting = false;
                    if (_journal == null && _fault == null && !_disposed)
                        _fault = new IOException("state journal in '" + Directory + "' could not be reopened after a compaction");
                }
                // Only beside a journal: a .new alone is the journal (see Open).
                try { if (File.Exists(_journalPath) && File.Exists(newPath)) File.Delete(newPath); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { }
            }
        }

        void OnTimer(object state)
        {
            try
            {
                lock (_syncGate)
                {
                    StateJournalFile journal;
                    long appended;
                    lock (_gate)
                    {
                        if (_disposed) return;
                        journal = _journal;
                        appended = _appended;
                    }
                    if (journal != null && appended != _synced)
                    {
                        try
                        {
                            journal.Sync();
                            _synced = appended;
                        }
                        catch (IOException ex)
                        {
                            // After a failed fsync the kernel may have dropped the dirty pages: the
                            // file cannot be trusted to hold what memory does until rewritten.
                            lock (_gate) _fault = _fault ?? ex;
                            Report(ex);
                        }
                    }
                }
                lock (_gate)
                {
                    if (_disposed) return;
                    _table.SweepExpired(Now(), SweepBatch);
                    if (_fault != null || ShouldCompact()) StartCompaction();
                }
            }
            catch (Exception ex)
            {
                Report(ex);
            }
            finally
            {
                try { _timer?.Change(_syncInterval, Timeout.InfiniteTimeSpan); }
                catch (ObjectDisposedException) { }
            }
        }
    }
}
