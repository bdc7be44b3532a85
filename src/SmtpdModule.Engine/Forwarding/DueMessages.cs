using System;
using System.Collections.Generic;
using System.IO;
using SmtpdModule.Engine.Spool;

namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>
    /// Which messages of a spool are due: everything in <c>ready/</c>, and what in <c>deferred/</c>
    /// has reached its next attempt. The due time of a deferred message is read once from its
    /// record and remembered, so a scan does not reread every record.
    /// </summary>
    /// <remarks>Not thread-safe: one forwarder's dispatch loop scans.</remarks>
    internal sealed class DueMessages
    {
        readonly string _root;
        readonly Action<string> _listFailed;
        readonly Dictionary<string, DateTimeOffset> _deferredDue = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);

        /// <param name="root">The spool.</param>
        /// <param name="listFailed">Told why a directory could not be listed; the scan goes on without it.</param>
        public DueMessages(string root, Action<string> listFailed)
        {
            _root = root;
            _listFailed = listFailed;
        }

        /// <summary>Messages left in <c>deferred/</c> as of the last scan.</summary>
        public int DeferredCount => _deferredDue.Count;

        /// <summary>The earliest next attempt in <c>deferred/</c> as of the last scan; null when none.</summary>
        public DateTimeOffset? Earliest
        {
            get
            {
                DateTimeOffset? next = null;
                foreach (var due in _deferredDue.Values)
                    if (next == null || due < next) next = due;
                return next;
            }
        }

        /// <summary>The message was claimed: its due time is read afresh if it comes back.</summary>
        public void Claimed(string id) => _deferredDue.Remove(id);

        /// <summary>The messages due now, ready ones first.</summary>
        public List<(SpoolState, string)> Find()
        {
            var now = DateTimeOffset.UtcNow;
            var due = new List<(SpoolState, string)>();
            foreach (var l in ListQuietly(SpoolLayout.Ready)) due.Add((SpoolState.Ready, l.Id));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var l in ListQuietly(SpoolLayout.Deferred))
            {
                seen.Add(l.Id);
                if (!_deferredDue.TryGetValue(l.Id, out var at))
                {
                    try { at = DeliveryStatusFile.Read(_root, l.Id)?.NextAttempt ?? now; }
                    catch (SpoolException) { at = now; }   // an unreadable record: try the message, which rewrites it
                    _deferredDue[l.Id] = at;
                }
                if (at <= now) due.Add((SpoolState.Deferred, l.Id));
            }
            // Forget messages that left deferred/ by other hands (released, removed, taken by a peer).
            if (_deferredDue.Count > seen.Count)
            {
                var gone = new List<string>();
                foreach (var id in _deferredDue.Keys) if (!seen.Contains(id)) gone.Add(id);
                foreach (var id in gone) _deferredDue.Remove(id);
            }
            return due;
        }

        List<SpoolLocation> ListQuietly(string state)
        {
            try { return SpoolDirectory.List(_root, state); }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
            {
                _listFailed("cannot list " + state + "/: " + ex.Message);
                return new List<SpoolLocation>();
            }
        }
    }
}
