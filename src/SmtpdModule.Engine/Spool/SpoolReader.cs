using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Reads the spool without changing it: envelopes by state, and message bodies. Enough for the
    /// tests, <c>Get-SmtpdSpool</c> and the forwarder; moving messages between states is the
    /// forwarder's.
    /// </summary>
    /// <remarks>
    /// An envelope is the header of its message file (<see cref="MessageFile"/>): listing reads
    /// each file up to the header's empty line (one 4 KiB read for a usual header), never the body.
    /// Files are opened with <see cref="FileShare.Read"/> and <see cref="FileShare.Delete"/>, so on
    /// Windows a reader never stops the forwarder from renaming or deleting them.
    /// </remarks>
    public static class SpoolReader
    {
        // Small on purpose: the header is read in 4 KiB steps and the body by callers in large
        // blocks, which bypass a buffer this size, so a reader allocates none (the forwarder opens
        // one per message; a 64 KiB buffer was a fresh, zeroed 64 KiB each time).
        const int BodyBufferSize = 4096;

        /// <summary>The envelopes in one state directory, by id (that is, by arrival). Reads only
        /// <c>*.msg</c> files with a valid id; a file that cannot be read is left out.
        /// <see cref="Envelope.Size"/> is the length of the body.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not one of
        /// <see cref="SpoolLayout.States"/> or <see cref="SpoolLayout.Corrupt"/>.</exception>
        /// <exception cref="SpoolException">There is no such directory
        /// (<see cref="SpoolErrorReason.NotFound"/>, no id) or it cannot be listed
        /// (<see cref="SpoolErrorReason.Io"/>).</exception>
        public static IReadOnlyList<Envelope> List(string root, string state = SpoolLayout.Ready) => List(root, state, null);

        /// <summary>As <see cref="List(string, string)"/>, reporting each message whose envelope
        /// could not be read to <paramref name="errors"/> (reasons <see cref="SpoolErrorReason.Corrupt"/>
        /// or <see cref="SpoolErrorReason.Io"/>, with the id). One bad file never hides the others.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not a spool state.</exception>
        /// <exception cref="SpoolException">The directory is missing or cannot be listed.</exception>
        public static IReadOnlyList<Envelope> List(string root, string state, ICollection<SpoolException> errors)
        {
            StateDirectory(root, state);
            List<SpoolLocation> locations;
            try
            {
                if (!Directory.Exists(Path.Combine(root, state))) throw new SpoolException(null, SpoolErrorReason.NotFound);
                locations = SpoolDirectory.List(root, state);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(null, ex); }

            var envelopes = new List<Envelope>(locations.Count);
            foreach (var location in locations)
            {
                try
                {
                    envelopes.Add(ReadEnvelope(location.Path, location.Id));
                }
                catch (SpoolException ex) when (ex.Reason == SpoolErrorReason.NotFound)
                {
                    // Moved or finished by the forwarder since the listing: not an error.
                }
                catch (SpoolException ex)
                {
                    errors?.Add(ex);
                }
            }
            return envelopes;
        }

        /// <summary>Reads the envelope of message <paramref name="id"/> in <paramref name="state"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not a spool state.</exception>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/> (also for an id
        /// that is not well-formed), <see cref="SpoolErrorReason.Corrupt"/> or
        /// <see cref="SpoolErrorReason.Io"/>.</exception>
        public static Envelope Read(string root, string state, string id)
        {
            StateDirectory(root, state);
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            var path = state == SpoolLayout.Active ? SpoolDirectory.Locate(root, id)?.Path : SpoolLayout.MessagePath(root, state, id);
            if (path == null) throw new SpoolException(id, SpoolErrorReason.NotFound);
            return ReadEnvelope(path, id);
        }

        /// <summary>Opens the bytes of message <paramref name="id"/> for reading, in whichever of
        /// the <see cref="SpoolLayout.States"/> it is (for <c>corrupt/</c>, name the state). The stream is the message file,
        /// positioned where the body starts, so its <see cref="Stream.Position"/> starts at the
        /// header's length, not at 0.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/> (also for an id
        /// that is not well-formed: it is never turned into a path), <see cref="SpoolErrorReason.Corrupt"/>
        /// (the file has no complete header) or <see cref="SpoolErrorReason.Io"/>.</exception>
        public static Stream OpenBody(string root, string id)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            // A rename between Locate and the open moves it again: look once more.
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var location = SpoolDirectory.Locate(root, id);
                if (location == null) break;
                var body = TryOpenBody(location.Path, id);
                if (body != null) return body;
            }
            throw new SpoolException(id, SpoolErrorReason.NotFound);
        }

        /// <summary>Opens the bytes of message <paramref name="id"/> in <paramref name="state"/>,
        /// as <see cref="OpenBody(string, string)"/> does.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not a spool state.</exception>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/>,
        /// <see cref="SpoolErrorReason.Corrupt"/> or <see cref="SpoolErrorReason.Io"/>.</exception>
        public static Stream OpenBody(string root, string state, string id)
        {
            StateDirectory(root, state);
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            var path = state == SpoolLayout.Active ? SpoolDirectory.Locate(root, id)?.Path : SpoolLayout.MessagePath(root, state, id);
            return (path == null ? null : TryOpenBody(path, id)) ?? throw new SpoolException(id, SpoolErrorReason.NotFound);
        }

        static string StateDirectory(string root, string state)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            if (state == null || !SpoolLayout.IsMessageDirectory(state))
                throw new ArgumentException("Not a spool state: " + state, nameof(state));
            return Path.Combine(root, state);
        }

        // Null when there is no such file.
        internal static Stream TryOpenBody(string path, string id)
        {
            FileStream file = null;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BodyBufferSize);
                // The seal first: its short read fills the stream's buffer, which the header's scan then reads from.
                var end = MessageSeal.StatedLength(file);
                file.Position = 0;
                var start = MessageFile.FindHeaderEnd(file);
                if (end > start && end < file.Length) return new SealedBodyStream(file, start, end);
                file.Position = start;
                return file;
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                return null;
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is SpoolException)
            {
                file?.Dispose();
                throw SpoolErrors.Wrap(id, ex);
            }
        }

        internal static Envelope ReadEnvelope(string path, string id)
        {
            try
            {
                // Unbuffered: the header is read in a few large reads, and the body is not wanted.
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1))
                {
                    var envelope = MessageFile.ReadHeader(file, out var headerLength);
                    // The file name is the id the forwarder acts on; an envelope claiming another is not trusted.
                    if (envelope.Id != id) throw new SpoolException(id, SpoolErrorReason.Corrupt, 0, "id");
                    var end = file.Length;
                    // A slot's zeros a crash kept after the message are not the message's.
                    if (envelope.SealedLength > headerLength && envelope.SealedLength < end) end = envelope.SealedLength;
                    envelope.Size = end - headerLength;
                    return envelope;
                }
            }
            catch (SpoolException ex) { throw ex.WithId(id); }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new SpoolException(id, SpoolErrorReason.NotFound, ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw SpoolErrors.Wrap(id, ex);
            }
        }
    }
}
