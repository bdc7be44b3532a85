using System;
using System.Collections.Generic;
using System.IO;

namespace SmtpdModule.Engine.Spool
{
    /// <summary>
    /// Finds message files: by state (<c>active/</c> has one directory per forwarder) and by id.
    /// Listing never opens a file.
    /// </summary>
    internal static class SpoolDirectory
    {
        /// <summary>The messages in <paramref name="state"/>, by id. A directory that is missing
        /// or goes away while listed gives nothing.</summary>
        /// <exception cref="IOException">The directory cannot be listed.</exception>
        /// <exception cref="UnauthorizedAccessException">The directory may not be listed.</exception>
        public static List<SpoolLocation> List(string root, string state)
        {
            var found = new List<SpoolLocation>();
            var directory = Path.Combine(root, state);
            if (state == SpoolLayout.Active)
            {
                foreach (var ownerDirectory in Enumerate(() => Directory.EnumerateDirectories(directory)))
                {
                    var owner = Path.GetFileName(ownerDirectory);
                    if (!SpoolId.IsValid(owner)) continue;
                    AddMessages(found, ownerDirectory, state, owner);
                }
            }
            else
            {
                AddMessages(found, directory, state, null);
            }
            found.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
            return found;
        }

        /// <summary>Where message <paramref name="id"/> is, or null. <paramref name="id"/> must be valid.</summary>
        public static SpoolLocation Locate(string root, string id)
        {
            // Two passes in opposite orders: a message moves by one rename at a time, and one
            // rename cannot take it past both passes.
            var states = SpoolLayout.States;
            for (var pass = 0; pass < 2; pass++)
            {
                for (var i = 0; i < states.Count; i++)
                {
                    var state = states[pass == 0 ? i : states.Count - 1 - i];
                    var found = Probe(root, state, id);
                    if (found != null) return found;
                }
            }
            return null;
        }

        static SpoolLocation Probe(string root, string state, string id)
        {
            if (state != SpoolLayout.Active)
            {
                var path = SpoolLayout.MessagePath(root, state, id);
                return File.Exists(path) ? new SpoolLocation(id, state, path) : null;
            }
            foreach (var ownerDirectory in Enumerate(() => Directory.EnumerateDirectories(Path.Combine(root, SpoolLayout.Active))))
            {
                var owner = Path.GetFileName(ownerDirectory);
                if (!SpoolId.IsValid(owner)) continue;
                var path = SpoolLayout.ClaimedPath(root, owner, id);
                if (File.Exists(path)) return new SpoolLocation(id, state, path, owner);
            }
            return null;
        }

        static void AddMessages(List<SpoolLocation> found, string directory, string state, string owner)
        {
            foreach (var path in Enumerate(() => Directory.EnumerateFiles(directory, "*" + SpoolLayout.MessageExtension)))
            {
                var id = SpoolLayout.IdFromFileName(Path.GetFileName(path), SpoolLayout.MessageExtension);
                if (id != null) found.Add(new SpoolLocation(id, state, path, owner));
            }
        }

        // Materialised so that a directory vanishing mid-listing (a forwarder's, on exit) is "empty".
        static List<string> Enumerate(Func<IEnumerable<string>> listing)
        {
            try { return new List<string>(listing()); }
            catch (DirectoryNotFoundException) { return new List<string>(); }
        }
    }
}
