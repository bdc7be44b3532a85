using System;
using System.IO;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A message being received: <see cref="SpoolWriter.BeginMessage"/> has written its envelope
    /// header, the SMTP layer writes the bytes to <see cref="Body"/>, then either commits
    /// (<see cref="SpoolWriter.CommitAsync"/>) or aborts (<see cref="SpoolWriter.Abort"/>, or
    /// <see cref="Dispose"/>). Until the commit, the message lives only in its file in
    /// <c>incoming/</c> (<see cref="TempPath"/>: a slot, or <c>&lt;id&gt;.tmp</c>), which nothing
    /// but this object reads.
    /// </summary>
    public sealed class IncomingMessage : IDisposable
    {
        enum State { Open, Committing, Committed, Failed, Aborted }

        readonly object _gate = new object();
        readonly SealedFileWriter _file;
        readonly BodyStream _body;
        State _state;

        internal IncomingMessage(SpoolWriter writer, Envelope envelope, FileStream file, string tempPath, byte[] header, bool nameDurable, long preallocated)
        {
            Writer = writer;
            Envelope = envelope;
            Id = envelope.Id;
            _file = new SealedFileWriter(file, preallocated);
            _file.Write(header, 0, header.Length);   // into the buffer: no system call for a usual header
            _body = new BodyStream(_file, header.Length);
            TempPath = tempPath;
            HeaderLength = header.Length;
            NameDurable = nameDurable;
        }

        /// <summary>The spool id the message will have once committed.</summary>
        public string Id { get; }

        /// <summary>
        /// Where the message bytes go, exactly as they will be forwarded: a write-only,
        /// forward-only stream on the message's file in <c>incoming/</c> after the envelope header (its
        /// <see cref="Stream.Position"/> counts body bytes). The file is opened exclusively
        /// (<see cref="FileShare.None"/>, which on Unix is also an advisory lock that tells a
        /// concurrent spool open that the file is in use) and written through a pooled 64 KiB
        /// buffer (<see cref="SealedFileWriter"/>); asynchronous writes complete synchronously
        /// (see <c>BodyStream</c>). Closing it is the commit's job; a caller that closes it anyway
        /// loses nothing, the commit reopens the file to seal and sync it.
        /// </summary>
        public Stream Body => _body;

        /// <summary>The envelope given to <see cref="SpoolWriter.BeginMessage"/>; its header is
        /// already in the file, so later changes to it are not stored. The commit sets its
        /// <see cref="Spool.Envelope.Size"/>.</summary>
        public Envelope Envelope { get; }

        /// <summary>True once <see cref="SpoolWriter.CommitAsync"/> has completed.</summary>
        public bool IsCommitted
        {
            get { lock (_gate) return _state == State.Committed; }
        }

        internal SpoolWriter Writer { get; }
        /// <summary>The message's file in <c>incoming/</c> until its commit: the slot's name, or
        /// <c>&lt;id&gt;.tmp</c> when no slot was free.</summary>
        internal string TempPath { get; }
        internal int HeaderLength { get; }

        /// <summary>The file took a slot (<see cref="IncomingSlots"/>): its name in
        /// <c>incoming/</c> was durable before the first byte, so once it is sealed and synced, a
        /// crash cannot lose it wherever the commit's rename stands.</summary>
        internal bool NameDurable { get; }

        /// <summary>Aborts the message unless it was committed: its temporary file is deleted.</summary>
        public void Dispose() => Writer.Abort(this);

        internal bool TryBeginCommit() => Transition(State.Open, State.Committing);
        internal bool TryBeginAbort() => Transition(State.Open, State.Aborted);
        internal void EndCommit(bool succeeded) => Transition(State.Committing, succeeded ? State.Committed : State.Failed);

        bool Transition(State from, State to)
        {
            lock (_gate)
            {
                if (_state != from) return false;
                _state = to;
                return true;
            }
        }

        /// <summary>
        /// Seals the file (<see cref="MessageSeal"/>), makes it durable, cuts what a slot had
        /// beyond it and closes it; returns the body's length (the file's less the header's).
        /// </summary>
        /// <exception cref="IOException">Writing, syncing or closing failed.</exception>
        internal long SyncAndCloseBody() =>
            (_file.IsOpen ? _file.SealSyncAndClose() : _file.SealSyncClosed(TempPath)) - HeaderLength;

        /// <summary>Whether the body can wait for a shared <see cref="DeviceFlush"/> instead of its
        /// own sync: open, and still within its preallocated slot.</summary>
        internal bool CanShareDeviceFlush => _file.IsOpen && _file.FitsPreallocation;

        /// <summary>As <see cref="SyncAndCloseBody"/>, but where <paramref name="shared"/> is given
        /// and the body still fits its slot, writes the file out and waits for a flush shared with
        /// other commits instead of its own sync.</summary>
        internal Task<long> SyncAndCloseBodyAsync(DeviceFlush shared) =>
            shared != null && CanShareDeviceFlush ? WriteOutAndCloseBodyAsync(shared) : Task.FromResult(SyncAndCloseBody());

        async Task<long> WriteOutAndCloseBodyAsync(DeviceFlush shared)
        {
            var size = _file.SealWriteOutAndClose() - HeaderLength;
            await shared.AfterWriteOutAsync().ConfigureAwait(false);
            return size;
        }

        /// <summary>Closes the body, ignoring errors: used only on the way to deleting it.</summary>
        internal void CloseBodyQuietly() => _file.Abandon();

        public override string ToString() => Id;
    }
}
