using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The <c>RBL.</c> token (reference §2.2): the zone's health, the lookup, the answer filter.</summary>
    internal partial struct RuleScan
    {
        /// <remarks>
        /// Extended on purpose, for every token, filtered or not: a zone the health guard found
        /// unhealthy matches nothing and is not asked; 127.255.255.0/24 answers are the list's error
        /// codes and answers outside 127/8 are noise, so neither is a listing. Neither is a failure
        /// either: a failure could defer the recipient, and a broken list must not hold up mail.
        /// </remarks>
        Tri MatchDnsbl(IpPattern p, PeerAddress address)
        {
            // Health first: an unhealthy zone is not asked at all.
            if (!_ruleSession.TryGet(RuleSession.FactKind.DnsblHealth, p.DnsblZone, out var h))
                return Pending(RuleSession.FactKind.DnsblHealth, p.DnsblZone);
            var unhealthy = DnsblHealth.UnhealthyReason((string)h);
            if (unhealthy != null)
            {
                Note(p.Text + ": zone unhealthy: " + unhealthy + "; the token matches nothing");
                return Tri.No;
            }
            var query = _ruleSession.DnsblName(address, p.DnsblZone);
            if (!_ruleSession.TryGet(RuleSession.FactKind.Dnsbl, query, out var f)) return Pending(RuleSession.FactKind.Dnsbl, query);
            var answer = (DnsblAnswer)f;
            if (answer.Outcome == LookupOutcome.Failed) return Failed("DNSBL lookup " + query + " failed");
            if (answer.ErrorCodes.Count > 0)
                Note(p.Text + ": " + query + " answered the list's error code " + answer.ErrorCodes[0] + ", not a listing");
            if (answer.Listings.Count == 0) return Tri.No;
            var filter = p.DnsblAnswerFilter;
            if (filter == null) return Tri.Yes;
            foreach (var listed in answer.Listings)
                if (filter.Matches(listed)) return Tri.Yes;
            Note(p.Text + ": " + query + " answered " + string.Join(", ", answer.Listings) + ", outside the filter " + filter.Text);
            return Tri.No;
        }

        void Note(string note)
        {
            if (_trace == null) return;
            _dnsblNote = _dnsblNote == null ? note : _dnsblNote + "; " + note;
        }

        string WithDnsblNote(string note) => _dnsblNote == null ? note : note == null ? _dnsblNote : note + "; " + _dnsblNote;
    }
}
