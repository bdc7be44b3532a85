using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Hosting;

namespace SmtpdModule.Commands
{
    /// <summary>
    /// Get-SmtpdSpool: lists the messages of a spool with their envelopes and delivery records,
    /// never reading a message body. Filters by id, state, sender and recipient; -Id, -Sender and
    /// -Recipient take wildcards and match without regard to case, as PowerShell's name filters do.
    /// </summary>
    /// <remarks>
    /// When every -Id is a plain id, each is looked up directly instead of reading every envelope
    /// of the spool; an id that is not in the spool is reported (SpoolItemNotFound), as
    /// Get-Process -Id does. A wildcard that matches nothing is not an error. A message whose files
    /// cannot be read is reported (SpoolItemCorrupt) and the listing goes on.
    /// </remarks>
    [Cmdlet(VerbsCommon.Get, "SmtpdSpool")]
    [OutputType(typeof(SpoolItem))]
    public sealed class GetSmtpdSpoolCommand : SpoolCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string SpoolPath { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(SpoolIdCompleter))]
        public string[] Id { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public SpoolState[] State { get; set; }

        /// <summary>The envelope sender without brackets; '' finds bounces (the null sender).</summary>
        [Parameter]
        [SupportsWildcards]
        public string[] Sender { get; set; }

        [Parameter]
        [SupportsWildcards]
        public string[] Recipient { get; set; }

        protected override void ProcessRecord()
        {
            var spool = OpenSpool(SpoolPath);
            var filter = new Filter(Id, State, Sender, Recipient);
            if (Id != null && Id.All(i => !WildcardPattern.ContainsWildcardCharacters(i)))
                LookUp(spool, filter);
            else
                List(spool, filter);
        }

        // Plain ids only: one direct look-up each, in the order given.
        void LookUp(SpoolQueue spool, Filter filter)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var id in Id)
            {
                var canonical = SpoolId.Canonical(id);
                if (!seen.Add(canonical)) continue;
                SpoolItem item;
                try { item = spool.Get(canonical); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, id, spool.Root)); continue; }
                if (filter.Wants(item)) WriteObject(item);
            }
        }

        void List(SpoolQueue spool, Filter filter)
        {
            var errors = new List<SpoolException>();
            var reported = new HashSet<string>(StringComparer.Ordinal);
            // Plain ids among wildcards are still reported when the spool does not have them.
            var plain = (Id ?? new string[0]).Where(i => !WildcardPattern.ContainsWildcardCharacters(i))
                .GroupBy(SpoolId.Canonical, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
            // In the order of SpoolState whatever the order given, as without -State.
            var states = State?.Distinct().OrderBy(s => s).ToArray();
            try
            {
                foreach (var item in spool.List(states, errors))
                {
                    Report(spool, errors, filter, reported);
                    plain.Remove(item.Id);
                    if (filter.Wants(item)) WriteObject(item);
                }
            }
            catch (SpoolException ex)
            {
                Report(spool, errors, filter, reported);
                ThrowTerminatingError(ErrorMapping.FromSpoolListing(ex, spool.Root));
            }
            Report(spool, errors, filter, reported);

            // Not listed: in a state -State left out, unreadable (reported above) or not there at all.
            foreach (var entry in plain)
            {
                if (reported.Contains(entry.Key)) continue;
                try { spool.Get(entry.Key); }
                catch (SpoolException ex) { WriteError(ErrorMapping.FromSpoolItem(ex, entry.Value, spool.Root)); }
            }
        }

        // Unreadable messages, as the listing meets them; only those -Id asks for.
        void Report(SpoolQueue spool, List<SpoolException> errors, Filter filter, HashSet<string> reported)
        {
            foreach (var ex in errors)
            {
                if (ex.Id != null && !filter.WantsId(ex.Id)) continue;
                if (ex.Id != null) reported.Add(ex.Id);
                WriteError(ErrorMapping.FromSpoolItem(ex, ex.Id, spool.Root));
            }
            errors.Clear();
        }

        sealed class Filter
        {
            readonly WildcardPattern[] _ids, _senders, _recipients;
            readonly HashSet<SpoolState> _states;

            public Filter(string[] ids, SpoolState[] states, string[] senders, string[] recipients)
            {
                _ids = Patterns(ids);
                _senders = Patterns(senders);
                _recipients = Patterns(recipients);
                _states = states == null ? null : new HashSet<SpoolState>(states);
            }

            public bool WantsId(string id) => Matches(_ids, id);

            public bool Wants(SpoolItem item) =>
                (_states == null || _states.Contains(item.State))
                && Matches(_ids, item.Id)
                && Matches(_senders, item.Sender ?? "")
                && (_recipients == null || item.Recipients.Any(r => Matches(_recipients, r.Address ?? "")));

            static bool Matches(WildcardPattern[] patterns, string value) =>
                patterns == null || patterns.Any(p => p.IsMatch(value));

            static WildcardPattern[] Patterns(string[] texts) =>
                texts?.Select(t => WildcardPattern.Get(t ?? "", WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant)).ToArray();
        }
    }
}
