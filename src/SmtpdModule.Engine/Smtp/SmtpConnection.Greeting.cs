using System;
using System.Threading.Tasks;

namespace SmtpdModule.Engine.Smtp
{
    internal sealed partial class SmtpConnection
    {
        // A read started by InputWithinAsync that had not completed when the wait ended: it still
        // owns the buffer from _len on, so the next fill takes it over instead of starting another
        // (two reads into one buffer would lose bytes).
        Task<int> _pendingRead;

        /// <summary>Whether the last line <see cref="ReadLineAsync"/> returned ended with LF alone, not CRLF.</summary>
        public bool LastLineBareNewline { get; private set; }

        Task<int> TakePendingRead()
        {
            var read = _pendingRead;
            _pendingRead = null;
            return read;
        }

        /// <summary>
        /// The pregreet test's wait: true as soon as the client has sent anything (bytes sent before
        /// the greeting included), false when <paramref name="wait"/> passes in silence or the proxy
        /// stops. What arrives stays buffered for the first command; nothing is consumed.
        /// </summary>
        public async Task<bool> InputWithinAsync(TimeSpan wait)
        {
            if (HasBufferedInput) return true;
            if (_pendingRead == null)
            {
                _pos = _len = 0;
                try { _pendingRead = _stream.ReadAsync(_in, 0, _in.Length); }
                catch (Exception ex) when (IsConnectionError(ex)) { return false; }
            }
            var read = _pendingRead;
            if (!read.IsCompleted && wait > TimeSpan.Zero) await WaitAsync(read, _stopping, wait).ConfigureAwait(false);
            // A closed connection is no pregreet: the next fill reports the end of the stream.
            return read.IsCompleted && read.Status == TaskStatus.RanToCompletion && read.Result > 0;
        }
    }
}
