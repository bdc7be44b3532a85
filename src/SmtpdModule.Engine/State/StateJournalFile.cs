using System;
using System.IO;

namespace SmtpdModule.Engine.State
{
    /// <summary>
    /// The open journal: one handle that appends, and a second one on the same file that only
    /// fsyncs, so the group fsync runs without the store's lock while appends go on (an fsync
    /// flushes the file, whichever handle asks). <see cref="Length"/> counts only bytes whose
    /// write returned: after a failed append it still marks the end of the valid records.
    /// </summary>
    internal sealed class StateJournalFile : IDisposable
    {
        // Both handles share with each other; the store's lock file keeps other processes out.
        const FileShare Share = FileShare.ReadWrite | FileShare.Delete;

        readonly FileStream _writer;
        readonly FileStream _syncer;

        StateJournalFile(FileStream writer, FileStream syncer, long length)
        {
            _writer = writer;
            _syncer = syncer;
            Length = length;
        }

        public long Length { get; private set; }

        /// <summary>When set, each append writes half its bytes and throws this; for tests.</summary>
        internal IOException FaultForTests;

        /// <summary>Opens <paramref name="path"/> to append after its first <paramref name="length"/>
        /// bytes, cutting off anything beyond them.</summary>
        /// <exception cref="IOException">The file could not be opened or cut.</exception>
        public static StateJournalFile Open(string path, long length)
        {
            // bufferSize 1: no FileStream buffer; each record's write(2) happens in Append.
            var writer = new FileStream(path, FileMode.Open, FileAccess.Write, Share, 1);
            FileStream syncer = null;
            try
            {
                if (writer.Length != length) writer.SetLength(length);
                writer.Position = length;
                syncer = new FileStream(path, FileMode.Open, FileAccess.Write, Share, 1);
                return new StateJournalFile(writer, syncer, length);
            }
            catch
            {
                syncer?.Dispose();
                writer.Dispose();
                throw;
            }
        }

        /// <summary>Writes the bytes through to the operating system: once this returns, a killed
        /// process loses nothing of them; only a power loss before the next <see cref="Sync"/> can.</summary>
        /// <exception cref="IOException">The write failed; the file may now end in part of it.</exception>
        public void Append(byte[] bytes, int count)
        {
            var fault = FaultForTests;
            if (fault != null)
            {
                _writer.Write(bytes, 0, count / 2);   // as a full disk can: part of the record, then the error
                throw fault;
            }
            _writer.Write(bytes, 0, count);
            _writer.Flush(false);
            Length += count;
        }

        /// <summary>fsync: everything appended so far is on stable storage.</summary>
        /// <exception cref="IOException">The flush failed.</exception>
        public void Sync() => _syncer.Flush(true);

        public void Dispose()
        {
            _syncer.Dispose();
            _writer.Dispose();
        }
    }
}
