using System;
using System.Buffers;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Writes a message file front to back through a 64 KiB buffer borrowed from the shared pool,
    /// hashing every byte for its <see cref="MessageSeal"/>, and at the end seals, syncs and
    /// closes it. A message that fits the buffer (most do) reaches the file in one write, its seal
    /// already in place; a larger one gets its seal by a second write at the seal's offset.
    /// </summary>
    /// <remarks>The file is opened unbuffered: a FileStream buffer of its own would be a fresh
    /// 64 KiB per message, and could not take the seal before its one write. A preallocated slot
    /// (<see cref="IncomingSlots"/>) is written over from its start; its zeros after the message
    /// are cut off once the message is synced, and the cut is not synced: the seal states the
    /// message's length, for a crash that undoes it.</remarks>
    internal sealed class SealedFileWriter
    {
        const int BufferSize = 64 * 1024;

        readonly FileStream _file;
        readonly long _preallocated;
        readonly MessageSeal _seal = new MessageSeal();
        byte[] _buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        int _filled;
        long _written;   // bytes already in the file

        /// <param name="file">The message file, at its start.</param>
        /// <param name="preallocated">Its length before the first write (a slot's).</param>
        public SealedFileWriter(FileStream file, long preallocated)
        {
            _file = file;
            _preallocated = preallocated;
        }

        /// <summary>Bytes written so far, buffered ones included.</summary>
        public long Length => _written + _filled;

        /// <summary>False once closed (<see cref="Close"/>, or sealed).</summary>
        public bool IsOpen => _buffer != null;

        public void Write(byte[] bytes, int offset, int count)
        {
            if (_buffer == null) throw new ObjectDisposedException(nameof(SealedFileWriter));
            while (count > 0)
            {
                if (_filled == _buffer.Length) Flush();
                var n = Math.Min(count, _buffer.Length - _filled);
                Buffer.BlockCopy(bytes, offset, _buffer, _filled, n);
                _seal.Add(bytes, offset, n);
                _filled += n;
                offset += n;
                count -= n;
            }
        }

        public void WriteByte(byte value) => Write(new[] { value }, 0, 1);

        /// <summary>Puts the buffered bytes into the file (no sync).</summary>
        public void Flush()
        {
            if (_filled == 0) return;
            _file.Write(_buffer, 0, _filled);
            _written += _filled;
            _filled = 0;
        }

        /// <summary>Seals the file, syncs it (<see cref="FileDataSync"/>), cuts a slot's zeros
        /// after the message and closes it, the close checked too (a write error can surface only
        /// there). Returns the message file's length.</summary>
        /// <exception cref="IOException">Writing, syncing or closing failed.</exception>
        public long SealSyncAndClose() => SealAndClose(FileDataSync.Flush);

        /// <summary>True while the message fits the slot it is written over: its data can then
        /// reach stable storage without a metadata change (<see cref="SealWriteOutAndClose"/>).</summary>
        public bool FitsPreallocation => Length <= _preallocated;

        /// <summary>Seals the file, writes its data out to the disk without the cache flush
        /// (<see cref="FileDataSync.WriteOut"/>), cuts the slot's zeros and closes it: durable once
        /// a <see cref="DeviceFlush"/> that starts afterwards ends. Only while
        /// <see cref="FitsPreallocation"/>. Returns the message file's length.</summary>
        /// <exception cref="IOException">Writing or closing failed.</exception>
        public long SealWriteOutAndClose()
        {
            if (!FitsPreallocation) throw new InvalidOperationException("The message outgrew its slot: its own sync is needed.");
            return SealAndClose(FileDataSync.WriteOut);
        }

        long SealAndClose(Action<FileStream> sync)
        {
            var length = Seal();
            SyncAndCut(_file, length, sync);
            Close();
            return length;
        }

        // Puts the seal in place and everything into the file (no sync); returns the length.
        long Seal()
        {
            var seal = _seal.Finish();
            var length = Length;
            if (_written == 0 && _filled >= MessageSeal.Offset + MessageSeal.ValueLength)
            {
                Buffer.BlockCopy(seal, 0, _buffer, MessageSeal.Offset, MessageSeal.ValueLength);
                Flush();
            }
            else
            {
                Flush();
                _file.Seek(MessageSeal.Offset, SeekOrigin.Begin);
                _file.Write(seal, 0, seal.Length);
            }
            return length;
        }

        /// <summary>Seals and syncs the file at <paramref name="path"/> after <see cref="Close"/>
        /// put everything written into it: fsync acts on the file, not the handle, so a new handle serves.</summary>
        public long SealSyncClosed(string path)
        {
            var seal = _seal.Finish();
            var length = Length;
            using (var again = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.None, 1))
            {
                again.Seek(MessageSeal.Offset, SeekOrigin.Begin);
                again.Write(seal, 0, seal.Length);
                SyncAndCut(again, length, FileDataSync.Flush);
                return length;
            }
        }

        // The sync (or write-out), then the cut of a slot's zeros after the message (not synced:
        // the seal states the length).
        void SyncAndCut(FileStream file, long length, Action<FileStream> sync)
        {
            sync(file);
            if (_preallocated > length) file.SetLength(length);
        }

        /// <summary>Puts what is buffered into the file and closes it; gives the buffer back.</summary>
        /// <exception cref="IOException">The last write or the close failed (the file is closed anyway).</exception>
        public void Close()
        {
            if (_buffer == null) return;
            try
            {
                Flush();
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
                _file.Dispose();
            }
        }

        /// <summary>Closes without writing what is buffered, ignoring errors: on the way to deleting the file.</summary>
        public void Abandon()
        {
            if (_buffer != null)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = null;
            }
            try { _file.Dispose(); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
