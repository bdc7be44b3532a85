using System;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// A message being received: the SMTP layer writes the bytes to <see cref="Body"/>, then either
    /// commits (<see cref="SpoolWriter.CommitAsync"/>) or aborts (<see cref="SpoolWriter.Abort"/>,
    /// or <see cref="Dispose"/>). Until the commit, the bytes live only in
    /// <c>incoming/&lt;id&gt;.eml.tmp</c>, which nothing but this object reads.
    /// </summary>
    public sealed class IncomingMessage : IDisposable
    {
        enum State { Open, Committing, Committed, Failed, Aborted }

        readonly object _gate = new object();
        readonly FileStream _file;
        State _state;

        internal IncomingMessage(SpoolWriter writer, string id, FileStream file, string messageTempPath, string envelopeTempPath)
        {
            Writer = writer;
            Id = id;
            _file = file;
            MessageTempPath = messageTempPath;
            EnvelopeTempPath = envelopeTempPath;
        }

        /// <summary>The spool id the message will have once committed.</summary>
        public string Id { get; }

        /// <summary>
        /// The message bytes, exactly as they will be forwarded: a write-only
        /// <see cref="FileStream"/> on <c>incoming/&lt;id&gt;.eml.tmp</c>, opened exclusively
        /// (<see cref="FileShare.None"/>, which on Unix is also an advisory lock that tells a
        /// concurrent spool open that the file is in use) with a 64 KiB buffer. Closing it is the
        /// commit's job; a caller that closes it anyway loses nothing, the commit reopens the file
        /// to sync it.
        /// </summary>
        public Stream Body => _file;

        /// <summary>True once <see cref="SpoolWriter.CommitAsync"/> has completed.</summary>
        public bool IsCommitted
        {
            get { lock (_gate) return _state == State.Committed; }
        }

        internal SpoolWriter Writer { get; }
        internal string MessageTempPath { get; }
        internal string EnvelopeTempPath { get; }

        /// <summary>Aborts the message unless it was committed: its temporary files are deleted.</summary>
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
        /// Makes the body durable and closes it; returns its length. Flush(true) is fsync
        /// (FlushFileBuffers on Windows); the close comes after it and is checked too, because a
        /// write error can surface only there (reference §9, CONVENTIONS "Spool").
        /// </summary>
        /// <exception cref="IOException">Writing, syncing or closing failed.</exception>
        internal long SyncAndCloseBody()
        {
            if (_file.CanWrite)
            {
                _file.Flush(true);
                var length = _file.Length;
                _file.Dispose();
                return length;
            }
            // The caller closed Body itself: its buffered bytes reached the file then, but nothing
            // was synced. fsync and FlushFileBuffers act on the file, not on the handle, so a new
            // handle serves.
            using (var again = new FileStream(MessageTempPath, FileMode.Open, FileAccess.Write, FileShare.None, 1))
            {
                again.Flush(true);
                return again.Length;
            }
        }

        /// <summary>Closes the body, ignoring errors: used only on the way to deleting it.</summary>
        internal void CloseBodyQuietly()
        {
            try { _file.Dispose(); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        public override string ToString() => Id;
    }
}
