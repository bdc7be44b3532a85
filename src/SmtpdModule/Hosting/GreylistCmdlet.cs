using System;
using System.Collections.Generic;
using System.Management.Automation;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Greylist;
using SmtpdModule.Engine.Smtp;

namespace SmtpdModule.Hosting
{
    /// <summary>
    /// What Get- and Remove-SmtpdGreylistEntry share: the filter from -Client, -From, -To and -Kind,
    /// and the two ways to a proxy's greylist state: the store of a proxy of this process, read
    /// directly, or any proxy serving a spool, asked through its control channel in pages.
    /// </summary>
    /// <remarks>Entries are written with a note property, <c>SpoolPath</c> or <c>Proxy</c>, saying where
    /// they came from, so <c>Get-SmtpdGreylistEntry ... | Remove-SmtpdGreylistEntry</c> binds it by
    /// property name and removes them there.</remarks>
    public abstract class GreylistCmdlet : ProxyChannelCmdlet
    {
        internal const string SpoolNote = "SpoolPath", ProxyNote = "Proxy";

        /// <summary>The filter of the cmdlet's parameters; a -Client that is not an address or network ends the command.</summary>
        internal GreylistFilter FilterFrom(string client, string from, string to, GreylistEntryKind[] kinds)
        {
            if (!GreylistFilter.TryCreate(client, from, to, kinds, out var filter, out var why))
                ThrowTerminatingError(ErrorMapping.BadGreylistClient(client, why));
            return filter;
        }

        /// <summary>Up to <paramref name="max"/> entries of a proxy of this process; null when its store failed (the error is written).</summary>
        /// <param name="capped">More entries matched than <paramref name="max"/>, or the store held more than one listing reads.</param>
        internal List<GreylistEntry> ListHere(SmtpProxy proxy, GreylistFilter filter, int max, out bool capped)
        {
            capped = false;
            GreylistPage page;
            try
            {
                page = Run(token => new GreylistReader(proxy.StateStore, proxy.Options.RuleEvaluation.Greylist).ListAsync(filter, 0, max, token));
            }
            catch (Exception ex) when (!(ex is PipelineStoppedException) && !(ex is ArgumentException))
            {
                WriteError(ErrorMapping.GreylistStoreFailed(ex, proxy));
                return null;
            }
            if (page == null) return null;   // stopped
            capped = page.HasMore || page.Incomplete;
            return new List<GreylistEntry>(page.Entries);
        }

        /// <summary>Up to <paramref name="max"/> entries of the proxies serving <paramref name="spoolPath"/>, a key once
        /// (proxies sharing one store list the same keys); null when none could be asked (the errors are written).</summary>
        internal List<GreylistEntry> ListInSpool(string spoolPath, GreylistFilter filter, int max, out bool capped)
        {
            capped = false;
            var locations = ProxiesOf(spoolPath);
            if (locations == null) return null;
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var found = new List<GreylistEntry>();
            foreach (var location in locations)
            {
                int offset = 0;
                while (offset >= 0)
                {
                    var request = GreylistControl.ListRequest(filter, offset, GreylistControl.MaxPage, out _);
                    var answer = Ask(location, request);
                    if (answer == null) break;
                    var page = GreylistControl.ReadPage(answer, out offset);
                    if (page.Incomplete) capped = true;
                    // The proxy narrowed by what fitted on the request line; the whole filter decides here.
                    foreach (var entry in page.Entries)
                    {
                        if (!filter.Matches(entry) || !seen.Add(entry.Key)) continue;
                        if (found.Count == max) { capped = true; offset = -1; break; }
                        found.Add(entry);
                    }
                }
            }
            return found;
        }

        /// <summary>Removes <paramref name="key"/> through every proxy serving <paramref name="spoolPath"/>; null when none could be asked.</summary>
        internal bool? RemoveInSpool(string spoolPath, string key)
        {
            if (!GreylistControl.TryRemoveRequest(key, out var request))
            {
                WriteError(ErrorMapping.BadGreylistKey(key, GreylistReader.IsGreylistKey(key)
                    ? "cannot be sent through the control channel (longer than a request line, or not ASCII); remove it through the proxy object or the store."
                    : "is not a greylist key (grey:t:, grey:a: or grey:trap:)."));
                return null;
            }
            var locations = ProxiesOf(spoolPath);
            if (locations == null) return null;
            bool? removed = null;
            foreach (var location in locations)
            {
                var answer = Ask(location, request);
                if (answer != null) removed = (removed ?? false) | GreylistControl.ReadRemoved(answer);
            }
            return removed;
        }

        /// <summary>Removes <paramref name="key"/> from the store of a proxy of this process; null when the store failed.</summary>
        internal bool? RemoveHere(SmtpProxy proxy, string key)
        {
            if (!GreylistReader.IsGreylistKey(key))
            {
                WriteError(ErrorMapping.BadGreylistKey(key, "is not a greylist key (grey:t:, grey:a: or grey:trap:)."));
                return null;
            }
            try { return Run(token => new GreylistReader(proxy.StateStore).RemoveAsync(key, token)); }
            catch (Exception ex) when (!(ex is PipelineStoppedException) && !(ex is ArgumentException))
            {
                WriteError(ErrorMapping.GreylistStoreFailed(ex, proxy));
                return null;
            }
        }

        /// <summary>The entry with the note that says where it came from.</summary>
        internal static PSObject Noted(GreylistEntry entry, string spoolPath, SmtpProxy proxy)
        {
            var o = PSObject.AsPSObject(entry);
            if (spoolPath != null) o.Properties.Add(new PSNoteProperty(SpoolNote, spoolPath));
            if (proxy != null) o.Properties.Add(new PSNoteProperty(ProxyNote, proxy));
            return o;
        }

        /// <summary>How ShouldProcess names an entry.</summary>
        internal static string Describe(GreylistEntry e) =>
            e.Kind + " " + (e.Client ?? e.Identity)
            + (e.From == null ? "" : " <" + e.From + ">") + (e.To == null ? "" : " -> <" + e.To + ">") + " (" + e.Key + ")";
    }
}
