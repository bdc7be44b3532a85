using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// <see cref="IncomingMessage.Body"/>: the message file after its envelope header, write-only
    /// and forward-only, so that the header cannot be overwritten and <see cref="Position"/>
    /// counts body bytes.
    /// </summary>
    /// <remarks>
    /// Asynchronous writes complete synchronously. The file is opened for synchronous I/O (its
    /// fsync is synchronous anyway), and the runtime carries out an asynchronous write on such a
    /// file by queueing it to the thread pool: a thread hop for each 64 KiB buffer flushed, which
    /// wakes idle workers that then spin. A write to the page cache takes microseconds, so doing
    /// it on the caller's thread costs less than the hop, and blocks no longer than the fsync at
    /// the commit will.
    /// </remarks>
    internal sealed class BodyStream : Stream
    {
        readonly SealedFileWriter _file;
        readonly long _start;

        public BodyStream(SealedFileWriter file, long start)
        {
            _file = file;
            _start = start;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => _file.IsOpen;
        public override long Length => throw new NotSupportedException();

        /// <summary>Body bytes written so far.</summary>
        public override long Position
        {
            get => _file.Length - _start;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) => _file.Write(buffer, offset, count);

        public override void WriteByte(byte value) => _file.WriteByte(value);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            try
            {
                Write(buffer, offset, count);
                return Task.CompletedTask;
            }
            catch (Exception ex)
            {
                return Task.FromException(ex);
            }
        }

        public override void Flush() => _file.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            if (cancellationToken.IsCancellationRequested) return Task.FromCanceled(cancellationToken);
            try
            {
                _file.Flush();
                return Task.CompletedTask;
            }
            catch (Exception ex)
            {
                return Task.FromException(ex);
            }
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _file.Close();
            base.Dispose(disposing);
        }
    }
}
