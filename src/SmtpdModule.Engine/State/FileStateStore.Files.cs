using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.State
{
    // Opening: the lock, the recovery rule for a compaction cut short, the replay.
    public sealed partial class FileStateStore
    {
        // Folders held by stores of this process: a byte-range lock is per process on Unix, so it
        // cannot keep a second store of the same process out.
        static readonly System.Collections.Generic.HashSet<string> s_held =
            new System.Collections.Generic.HashSet<string>(System.StringComparer.Ordinal);

        // Beyond any byte the file will hold: a reader (a backup, Copy-Item) never meets the lock.
        const long LockOffset = 1L << 40;

        /// <summary>Holds the folder: a byte-range lock on state.lock (fcntl on Unix, LockFileEx on
        /// Windows), taken beyond its end, and the file opened sharing reads and writes. A lock that
        /// denied sharing would also stop anyone copying the folder (on Unix .NET takes flock for it,
        /// which every other .NET reader then fails).</summary>
        static FileStream TakeLock(string directory)
        {
            var path = Path.Combine(directory, LockFileName);
            var key = Path.GetFullPath(directory);
            lock (s_held)
                if (!s_held.Add(key))
                    throw new StateStoreLockedException(directory, path, new IOException("another store of this process holds it"));
            FileStream file = null;
            try
            {
                file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
                file.Lock(LockOffset, 1);
                return file;
            }
            catch (IOException ex) when (IsSharingViolation(ex))
            {
                Release(file, key);
                throw new StateStoreLockedException(directory, path, ex);
            }
            catch
            {
                Release(file, key);
                throw;
            }
        }

        static void Release(FileStream file, string key)
        {
            file?.Dispose();
            lock (s_held) s_held.Remove(key);
        }

        void ReleaseLock() => Release(_lock, Path.GetFullPath(Directory));

        // The runtime reports a held lock as a plain IOException; its HResult tells it from a disk
        // error: ERROR_SHARING_VIOLATION or ERROR_LOCK_VIOLATION on Windows, EWOULDBLOCK from
        // flock on Unix (11 on Linux, 35 on macOS and the BSDs).
        static bool IsSharingViolation(IOException ex)
        {
            switch (HostOsInfo.Current)
            {
                case HostOs.Windows:
                    int code = ex.HResult & 0xFFFF;
                    return code == 32 || code == 33;
                case HostOs.Linux:
                    return ex.HResult == 11 || ex.HResult == 13;   // EAGAIN, or EACCES from fcntl
                default:
                    return ex.HResult == 35;
            }
        }

        // Before the store is shared: settles the files, replays the journal into the table,
        // cuts off a damaged end and opens the journal for appending.
        StateJournalRecovery Open()
        {
            var newPath = _journalPath + NewSuffix;
            if (File.Exists(_journalPath))
            {
                // A compaction stopped before its rename: the journal is the complete one.
                if (File.Exists(newPath)) File.Delete(newPath);
            }
            else if (File.Exists(newPath))
            {
                // Written and fsynced in full before the old journal was removed (a replace
                // on Windows can fail after moving the old one away): it is the journal.
                Install(newPath);
                DirectorySync.Flush(Directory);
            }
            else
                CreateEmpty(newPath);

            StateJournalRecovery recovery;
            using (var file = new FileStream(_journalPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16))
            {
                var header = StateJournalFormat.Header;
                var found = new byte[header.Length];
                int got = 0, n;
                while (got < found.Length && (n = file.Read(found, got, found.Length - got)) > 0) got += n;
                bool prefix = true;
                for (int i = 0; i < got; i++) prefix &= found[i] == header[i];
                if (!prefix)
                    throw new InvalidDataException(_journalPath + " is not a state journal of this format (it does not start with "
                        + System.Text.Encoding.ASCII.GetString(header) + "); move it away to start afresh");
                if (got < header.Length)
                {
                    // Only the start of a header: a file system that lost what was synced. There
                    // is nothing to replay; start over with a whole header.
                    file.Dispose();
                    CreateEmpty(newPath);
                    _journal = StateJournalFile.Open(_journalPath, header.Length);
                    return new StateJournalRecovery(_journalPath, StateJournalDamage.TornTail, 0, got, 0);
                }
                long now = Now();
                _replaying = true;
                try
                {
                    recovery = StateJournalReader.Replay(file, _journalPath,
                        (key, value, expiresAt) => _table.Load(key, value, expiresAt, now),
                        key => _table.Unload(key));
                }
                finally
                {
                    _replaying = false;
                }
            }
            _journal = StateJournalFile.Open(_journalPath, recovery.ValidLength);   // cuts off what was not valid
            if (recovery.Damage != StateJournalDamage.None) _journal.Sync();       // the cut, before new records follow it
            return recovery;
        }

        // A journal holding only the header, put in place the way a compaction puts its file, so
        // that the name never points at a file whose header might not be on disk.
        void CreateEmpty(string newPath)
        {
            using (var next = new FileStream(newPath, FileMode.Create, FileAccess.Write, FileShare.None, 1))
            {
                next.Write(StateJournalFormat.Header, 0, StateJournalFormat.Header.Length);
                next.Flush(true);
            }
            Install(newPath);
            DirectorySync.Flush(Directory);
        }

        // Puts the complete, fsynced file at newPath in the journal's place; the caller then syncs
        // the folder (Unix), so the new name survives a power loss. Unix: rename(2), which
        // File.Replace is there. Windows: MoveFileEx(REPLACE_EXISTING | WRITE_THROUGH), one rename
        // on disk before it returns, retried briefly while an antivirus or indexer holds a file.
        // If the name was gone and only .new is left (a rename interrupted by hand or by another
        // tool), .new is moved in: it is complete.
        void Install(string newPath)
        {
            if (!File.Exists(_journalPath))
                File.Move(newPath, _journalPath);
            else if (!HostOsInfo.IsWindows)
                File.Replace(newPath, _journalPath, null);
            else
                for (int attempt = 0; ; attempt++)
                {
                    try
                    {
                        WindowsFileApi.ReplaceWriteThrough(newPath, _journalPath);
                        return;
                    }
                    catch (IOException ex) when (attempt < 3 && WindowsFileApi.IsTransientSharingError(ex))
                    {
                        System.Threading.Thread.Sleep(10 << attempt);
                    }
                }
        }
    }
}
