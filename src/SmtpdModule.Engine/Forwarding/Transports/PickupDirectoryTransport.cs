using System;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding.Transports
{
    /// <summary>
    /// Delivers by writing each message as <c>&lt;id&gt;.eml</c> into a pickup directory, in the
    /// replay form that IIS SMTP and Exchange's Pickup and Replay directories take: the envelope
    /// as <c>X-Sender: &lt;sender&gt;</c> and one <c>X-Receiver: &lt;recipient&gt;</c> per recipient,
    /// before anything else, then the message bytes unchanged but for a lone CR or LF (never
    /// stored by this version's proxy), written as CRLF: the pickup service sends the file on
    /// over SMTP, where a lone line end could be read as a line, or an end of data, the sender
    /// never wrote (<see cref="CrlfNormalizingStream"/>).
    /// </summary>
    /// <remarks>
    /// The file is written under a temporary name in the same directory, flushed to disk, then
    /// renamed to <c>.eml</c>, so the pickup service never sees half a message; a file of the
    /// same id left by an attempt the forwarder did not hear about (a crash after the rename) is
    /// replaced, not doubled. The directory's entry is synced afterwards where the system allows
    /// (<see cref="DirectorySync"/>). Every failure defers: a full disk with <c>4.3.1</c>, anything
    /// else with <c>4.3.0</c>.
    /// </remarks>
    public sealed class PickupDirectoryTransport : IMessageTransport
    {
        const string Local = "x-local";
        const string PartialSuffix = ".partial";
        static readonly Encoding Utf8 = new UTF8Encoding(false);

        readonly string _directory;

        /// <param name="directory">The pickup directory; created when missing.</param>
        /// <exception cref="ArgumentException"><paramref name="directory"/> is null, empty or not a valid path.</exception>
        public PickupDirectoryTransport(string directory)
        {
            if (string.IsNullOrWhiteSpace(directory)) throw new ArgumentException("A directory is required.", nameof(directory));
            _directory = Path.GetFullPath(directory);
        }

        /// <inheritdoc/>
        public string Target => "pickup:" + _directory;

        /// <summary>The file a message is delivered as.</summary>
        public string PathFor(string id) => Path.Combine(_directory, id + ".eml");

        /// <inheritdoc/>
        public async Task<DeliveryResult> DeliverAsync(OutgoingMessage message, CancellationToken cancellationToken = default)
        {
            if (message == null) throw new ArgumentNullException(nameof(message));
            cancellationToken.ThrowIfCancellationRequested();
            if (!SpoolId.IsValid(message.Id))
                return All(message, DeliveryOutcome.Deferred, "4.3.0", "spool id '" + message.Id + "' cannot name a file");

            var final = PathFor(message.Id);
            var partial = Path.Combine(_directory, message.Id + "." + Guid.NewGuid().ToString("N") + PartialSuffix);
            try
            {
                Directory.CreateDirectory(_directory);
                RemoveLeftovers(message.Id);
                using (var output = new FileStream(partial, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
                {
                    var envelope = Utf8.GetBytes(EnvelopeLines(message));
                    await output.WriteAsync(envelope, 0, envelope.Length, cancellationToken).ConfigureAwait(false);
                    using (var body = new CrlfNormalizingStream(message.OpenBody()))
                        await body.CopyToAsync(output, 81920, cancellationToken).ConfigureAwait(false);
                    await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    output.Flush(flushToDisk: true);
                }
                Replace(partial, final);
                DirectorySync.Flush(_directory);
                return All(message, DeliveryOutcome.Delivered, "2.0.0", "written to " + final);
            }
            catch (OperationCanceledException)
            {
                TryDelete(partial);
                throw;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SpoolException || ex is NotSupportedException)
            {
                TryDelete(partial);
                var full = ex is IOException && SpoolErrors.IsDiskFull(ex.HResult, HostOsInfo.Current);
                return All(message, DeliveryOutcome.Deferred, full ? "4.3.1" : "4.3.0", "cannot write " + final + ": " + ex.Message);
            }
        }

        /// <summary>The replay envelope: bare addresses in angle brackets, the null sender as
        /// <c>&lt;&gt;</c>, each line ended with CRLF like the message that follows.</summary>
        internal static string EnvelopeLines(OutgoingMessage message)
        {
            var sb = new StringBuilder();
            sb.Append("X-Sender: <").Append(message.Sender).Append(">\r\n");
            foreach (var recipient in message.Recipients)
                sb.Append("X-Receiver: <").Append(recipient.Address).Append(">\r\n");
            return sb.ToString();
        }

        /// <summary>Puts the finished file in place, over an older one of the same id.</summary>
        static void Replace(string partial, string final)
        {
            try
            {
                File.Move(partial, final);
            }
            catch (IOException) when (File.Exists(final))
            {
                // rename(2) on Unix, ReplaceFile on Windows: the name never disappears.
                File.Replace(partial, final, null);
            }
        }

        /// <summary>Temporary files of an earlier attempt at the same message that did not live
        /// to rename or delete them.</summary>
        void RemoveLeftovers(string id)
        {
            foreach (var path in Directory.GetFiles(_directory, id + ".*" + PartialSuffix))
                TryDelete(path);
        }

        static void TryDelete(string path)
        {
            try { File.Delete(path); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { /* left for the next attempt */ }
        }

        static DeliveryResult All(OutgoingMessage message, DeliveryOutcome outcome, string status, string diagnostic)
        {
            var results = new RecipientResult[message.Recipients.Count];
            for (var i = 0; i < results.Length; i++)
                results[i] = new RecipientResult(message.Recipients[i], outcome, status, diagnostic, Local);
            return new DeliveryResult(results);
        }

        /// <summary>Nothing to release.</summary>
        public void Dispose()
        {
        }
    }
}
