using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A message file's body read up to the end its seal states (<see cref="MessageSeal"/>), for
    /// the rare file longer than that: a slot (<see cref="IncomingSlots"/>) whose cut a crash
    /// undid, with zeros after the message. Read-only and seekable within the body.
    /// </summary>
    internal sealed class SealedBodyStream : Stream
    {
        readonly Stream _file;
        readonly long _start;
        readonly long _end;

        /// <param name="file">The message file; owned from here on.</param>
        /// <param name="start">Where the body starts (the header's length).</param>
        /// <param name="end">Where the message ends: the sealed length.</param>
        public SealedBodyStream(Stream file, long start, long end)
        {
            _file = file;
            _start = start;
            _end = end;
            _file.Position = start;
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => _end - _start;

        public override long Position
        {
            get => _file.Position - _start;
            set => Seek(value, SeekOrigin.Begin);
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var left = _end - _file.Position;
            if (left <= 0) return 0;
            return _file.Read(buffer, offset, (int)Math.Min(count, left));
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var target = origin == SeekOrigin.Begin ? offset : origin == SeekOrigin.Current ? Position + offset : Length + offset;
            if (target < 0) throw new IOException("Seek before the body's start.");
            _file.Position = _start + target;
            return target;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _file.Dispose();
            base.Dispose(disposing);
        }
    }
}
