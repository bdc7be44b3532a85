using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// An administrator's view of a spool: list messages with their delivery records, hold,
    /// release and remove them, export their bytes. Every change is one rename, so it is safe
    /// beside running proxies and forwarders; a message a forwarder is delivering right now is
    /// <see cref="SpoolErrorReason.Busy"/> until that attempt ends.
    /// </summary>
    public sealed class SpoolQueue
    {
        SpoolQueue(string root) => Root = root;

        /// <summary>The full path of the spool root.</summary>
        public string Root { get; }

        /// <summary>Opens the existing spool at <paramref name="root"/>; directories a newer
        /// layout added (<c>status/</c>) are created.</summary>
        /// <exception cref="ArgumentException"><paramref name="root"/> is null, empty or not a path.</exception>
        /// <exception cref="SpoolException">There is no spool there (<see cref="SpoolErrorReason.NotFound"/>)
        /// or it cannot be completed (<see cref="SpoolErrorReason.Io"/>).</exception>
        public static SpoolQueue Open(string root)
        {
            if (string.IsNullOrEmpty(root)) throw new ArgumentException("A spool root is required.", nameof(root));
            string full;
            try { full = Path.GetFullPath(root); }
            catch (Exception ex) when (ex is NotSupportedException || ex is PathTooLongException) { throw new ArgumentException("Not a valid spool root: " + root, nameof(root), ex); }
            if (!Directory.Exists(Path.Combine(full, SpoolLayout.Ready))) throw new SpoolException(null, SpoolErrorReason.NotFound);
            try
            {
                foreach (var name in SpoolLayout.AllDirectories)
                {
                    var path = Path.Combine(full, name);
                    if (Directory.Exists(path)) continue;
                    Directory.CreateDirectory(path);
                    UnixPermissions.Restrict(path, UnixPermissions.PrivateDirectory);
                }
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(null, ex); }
            return new SpoolQueue(full);
        }

        /// <summary>The messages in <paramref name="states"/> (all states when null), state by
        /// state in the order of <see cref="SpoolState"/>, by arrival within a state. Reads each
        /// envelope and record, never a body. A message whose files cannot be read is reported to
        /// <paramref name="errors"/> and left out; one that moves while listed may be missed or
        /// seen twice, like any listing of a live queue.</summary>
        /// <exception cref="SpoolException">A state directory cannot be listed.</exception>
        public IEnumerable<SpoolItem> List(IEnumerable<SpoolState> states = null, ICollection<SpoolException> errors = null)
        {
            foreach (var state in states ?? (IEnumerable<SpoolState>)new[] { SpoolState.Ready, SpoolState.Active, SpoolState.Deferred, SpoolState.Held, SpoolState.Failed })
            {
                List<SpoolLocation> locations;
                try { locations = SpoolDirectory.List(Root, SpoolLayout.DirectoryOf(state)); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { throw SpoolErrors.Wrap(null, ex); }
                foreach (var location in locations)
                {
                    SpoolItem item;
                    try { item = Read(location); }
                    catch (SpoolException ex) when (ex.Reason == SpoolErrorReason.NotFound) { continue; }
                    catch (SpoolException ex) { errors?.Add(ex); continue; }
                    yield return item;
                }
            }
        }

        /// <summary>The message <paramref name="id"/>, wherever it is.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/> (also for a
        /// malformed id), <see cref="SpoolErrorReason.Corrupt"/> or <see cref="SpoolErrorReason.Io"/>.</exception>
        public SpoolItem Get(string id) => Read(Find(id));

        /// <summary>Puts message <paramref name="id"/> aside: it is not delivered until released.
        /// Holding a held message does nothing.</summary>
        /// <returns>The item in its new state.</returns>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/>,
        /// <see cref="SpoolErrorReason.Busy"/> (being delivered) or <see cref="SpoolErrorReason.Io"/>.</exception>
        public SpoolItem Hold(string id)
        {
            var location = Find(id);
            if (location.State == SpoolLayout.Held) return Read(location);
            return Read(Move(location, SpoolLayout.Held));
        }

        /// <summary>Makes message <paramref name="id"/> due now: a held, deferred or failed
        /// message goes to <c>ready/</c>. The failed recipients of a message in <c>failed/</c>
        /// are tried again (elsewhere failures were bounced already and stay failed), and the
        /// queue lifetime starts again from now. Releasing a ready message does nothing.</summary>
        /// <returns>The item in its new state.</returns>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/>,
        /// <see cref="SpoolErrorReason.Busy"/>, <see cref="SpoolErrorReason.Corrupt"/> (its record)
        /// or <see cref="SpoolErrorReason.Io"/>.</exception>
        public SpoolItem Release(string id) => Release(id, DateTimeOffset.UtcNow);

        internal SpoolItem Release(string id, DateTimeOffset now)
        {
            var location = Find(id);
            if (location.State == SpoolLayout.Ready) return Read(location);
            if (location.State == SpoolLayout.Active) throw new SpoolException(id, SpoolErrorReason.Busy);
            var status = DeliveryStatusFile.Read(Root, id) ?? new DeliveryStatus();
            status.NextAttempt = null;
            status.Released = now;
            // Only failed/ holds failures nobody was told about; elsewhere they were bounced already.
            if (location.State == SpoolLayout.Failed)
                foreach (var p in status.Recipients.Values)
                    if (p.Status == RecipientStatus.Failed) p.Status = RecipientStatus.Pending;
            DeliveryStatusFile.Write(Root, id, status);
            return Read(Move(location, SpoolLayout.Ready));
        }

        /// <summary>Deletes message <paramref name="id"/> and its record.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/>,
        /// <see cref="SpoolErrorReason.Busy"/> or <see cref="SpoolErrorReason.Io"/>.</exception>
        public void Remove(string id)
        {
            var location = Find(id);
            if (location.State == SpoolLayout.Active) throw new SpoolException(id, SpoolErrorReason.Busy);
            // Taken out of its state directory by a rename first, so a forwarder cannot claim it
            // halfway; what a crash leaves in incoming/ is swept like any other debris (under a
            // name crash recovery never takes for a message to keep).
            var doomed = SpoolLayout.RemovedPath(Root, id);
            Rename(location, doomed);
            FileRemoval.DeleteQuietly(doomed);
            DeliveryStatusFile.Delete(Root, id);
        }

        /// <summary>Opens the bytes of message <paramref name="id"/> (our Received: header first),
        /// wherever it is.</summary>
        /// <exception cref="SpoolException"><see cref="SpoolErrorReason.NotFound"/>,
        /// <see cref="SpoolErrorReason.Corrupt"/> or <see cref="SpoolErrorReason.Io"/>.</exception>
        public Stream OpenMessage(string id)
        {
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            return SpoolReader.OpenBody(Root, id);
        }

        /// <summary>The ids in the spool that start with <paramref name="prefix"/>, for tab completion.</summary>
        public IEnumerable<string> Ids(string prefix = "")
        {
            foreach (var state in SpoolLayout.States)
            {
                List<SpoolLocation> locations;
                try { locations = SpoolDirectory.List(Root, state); }
                catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException) { continue; }
                foreach (var l in locations)
                    if (l.Id.StartsWith(prefix ?? "", StringComparison.OrdinalIgnoreCase)) yield return l.Id;
            }
        }

        SpoolLocation Find(string id)
        {
            if (!SpoolId.IsValid(id)) throw new SpoolException(id, SpoolErrorReason.NotFound);
            return SpoolDirectory.Locate(Root, id) ?? throw new SpoolException(id, SpoolErrorReason.NotFound);
        }

        SpoolItem Read(SpoolLocation location)
        {
            var envelope = SpoolReader.ReadEnvelope(location.Path, location.Id);
            var status = DeliveryStatusFile.Read(Root, location.Id);
            return new SpoolItem(Root, location, envelope, status);
        }

        SpoolLocation Move(SpoolLocation location, string state)
        {
            if (location.State == SpoolLayout.Active) throw new SpoolException(location.Id, SpoolErrorReason.Busy);
            var destination = SpoolLayout.MessagePath(Root, state, location.Id);
            Rename(location, destination);
            return new SpoolLocation(location.Id, state, destination);
        }

        // A message that vanished from under us was claimed, finished or removed meanwhile.
        void Rename(SpoolLocation location, string destination)
        {
            try { File.Move(location.Path, destination); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                if (File.Exists(location.Path)) throw SpoolErrors.Wrap(location.Id, ex);
                var now = SpoolDirectory.Locate(Root, location.Id);
                throw new SpoolException(location.Id, now?.State == SpoolLayout.Active ? SpoolErrorReason.Busy : SpoolErrorReason.NotFound, ex);
            }
        }
    }
}
