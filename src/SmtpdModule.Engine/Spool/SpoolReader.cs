using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Reads the spool without changing it: envelopes by state, and message bodies. Enough for the
    /// tests, <c>Get-SmtpdSpool</c> and the forwarder; moving envelopes between states is the
    /// forwarder's.
    /// </summary>
    /// <remarks>Files are opened with <see cref="FileShare.Read"/> and <see cref="FileShare.Delete"/>,
    /// so on Windows a reader never stops the forwarder from renaming or deleting them.</remarks>
    public static class SpoolReader
    {
        static readonly Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

        /// <summary>The envelopes in one state directory, by id (that is, by arrival). Reads only
        /// <c>*.env</c> files with a valid id; an envelope that cannot be read is left out.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not one of
        /// <see cref="SpoolLayout.States"/> or <see cref="SpoolLayout.Corrupt"/>.</exception>
        /// <exception cref="SpoolException">There is no such directory
        /// (<see cref="SpoolErrorReason.NotFound"/>, no id) or it cannot be listed
        /// (<see cref="SpoolErrorReason.Io"/>).</exception>
        public static IReadOnlyList<Envelope> List(string root, string state = SpoolLayout.Ready) => List(root, state, null);

        /// <summary>As <see cref="List(string, string)"/>, reporting each envelope that could not
        /// be read to <paramref name="errors"/> (reasons <see cref="SpoolErrorReason.Corrupt"/> or
        /// <see cref="SpoolErrorReason.Io"/>, with the id). One bad file never hides the others.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not a spool state.</exception>
        /// <exception cref="SpoolException">The directory is missing or cannot be listed.</exception>
        public static IReadOnlyList<Envelope> List(string root, string state, ICollection<SpoolException> errors)
        {
            var directory = StateDirectory(root, state);
            var ids = new List<string>();
            try
            {
                foreach (var path in Directory.EnumerateFiles(directory))
                {
                    var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.EnvelopeExtension);
                    if (id != null) ids.Add(id);
                }
            }
            catch (DirectoryNotFoundException ex) { throw new SpoolException(null, SpoolErrorReason.NotFound, ex); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(null, ex); }

            ids.Sort(StringComparer.Ordinal);
            var envelopes = new List<Envelope>(ids.Count);
            foreach (var id in ids)
            {
                try
                {
                    envelopes.Add(ReadFile(SpoolLayout.EnvelopePath(root, state, id), id));
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

        /// <summary>Reads the envelope <paramref name="id"/> in <paramref name="state"/>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="state"/> is not a spool state.</exception>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/> (also for an id
        /// that is not well-formed), <see cref="SpoolErrorReason.Corrupt"/> or
        /// <see cref="SpoolErrorReason.Io"/>.</exception>
        public static Envelope Read(string root, string state, string id)
        {
            StateDirectory(root, state);
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            return ReadFile(SpoolLayout.EnvelopePath(root, state, id), id);
        }

        /// <summary>Opens the bytes of message <paramref name="id"/> for reading.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/> (also for an id
        /// that is not well-formed: it is never turned into a path) or
        /// <see cref="SpoolErrorReason.Io"/>.</exception>
        public static Stream OpenBody(string root, string id)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            try
            {
                return new FileStream(SpoolLayout.DataPath(root, id), FileMode.Open, FileAccess.Read,
                    FileShare.Read | FileShare.Delete, 64 * 1024);
            }
            catch (Exception ex) when (ex is FileNotFoundException || ex is DirectoryNotFoundException)
            {
                throw new SpoolException(id, SpoolErrorReason.NotFound, ex);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                throw SpoolErrors.Wrap(id, ex);
            }
        }

        static string StateDirectory(string root, string state)
        {
            if (root == null) throw new ArgumentNullException(nameof(root));
            if (state == null || !SpoolLayout.IsEnvelopeDirectory(state))
                throw new ArgumentException("Not a spool state: " + state, nameof(state));
            return Path.Combine(root, state);
        }

        static Envelope ReadFile(string path, string id)
        {
            try
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 4096))
                using (var reader = new StreamReader(file, StrictUtf8, detectEncodingFromByteOrderMarks: false))
                {
                    var envelope = EnvelopeSerializer.Read(reader);
                    // The file name is the id the forwarder acts on; an envelope claiming another is not trusted.
                    if (envelope.Id != id) throw new SpoolException(id, SpoolErrorReason.Corrupt, 0, "id");
                    return envelope;
                }
            }
            catch (SpoolException ex) { throw ex.WithId(id); }
            catch (DecoderFallbackException ex) { throw new SpoolException(id, SpoolErrorReason.Corrupt, ex); }
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
