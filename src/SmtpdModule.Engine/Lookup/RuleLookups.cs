using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// The DNS questions behind the rules, built on one <see cref="IDnsResolver"/>: DNSBL
    /// (reference §2.2), host resolution, the NS/MX walk (§2.4) and the peer's reverse name with
    /// forward confirmation (§4.1, fixed per §9).
    /// </summary>
    public sealed class RuleLookups
    {
        const int MaxNames = 100, MaxAddresses = 500;
        /// <summary>How many names above an existing name are asked for NS while looking for its zone.</summary>
        internal const int MaxZoneQuestions = 8;
        readonly IDnsResolver _dns;

        public RuleLookups(IDnsResolver dns) { _dns = dns ?? throw new ArgumentNullException(nameof(dns)); }

        /// <summary>
        /// Asks a DNSBL. Only answers in 127.0.0.0/8 can mean "listed" (anything else is a wildcard or a
        /// misconfigured list), and 127.255.255.0/24 are the list's error codes, never a listing;
        /// NXDOMAIN and no data mean "not listed"; a failed query is Failed.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="queryName"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<DnsblAnswer> DnsblAsync(string queryName, CancellationToken cancellationToken = default)
        {
            if (queryName == null) throw new ArgumentNullException(nameof(queryName));
            return DnsblAnswer.From(await _dns.QueryAsync(queryName, DnsRecordType.A, cancellationToken).ConfigureAwait(false));
        }

        /// <summary>The DNS question behind <see cref="DnsblAsync"/>, its answer not yet sorted (<see cref="DnsblAnswer.From"/>).</summary>
        internal Task<DnsAnswer> AskDnsbl(string queryName, CancellationToken cancellationToken)
        {
            if (queryName == null) throw new ArgumentNullException(nameof(queryName));
            return _dns.QueryAsync(queryName, DnsRecordType.A, cancellationToken);
        }

        /// <summary>A and AAAA addresses of <paramref name="host"/>. A dotted quad resolves to itself,
        /// as gethostbyname did.</summary>
        public async Task<HostAddresses> ResolveHostAsync(string host, CancellationToken cancellationToken = default)
        {
            if (host == null) throw new ArgumentNullException(nameof(host));
            if (host.Length == 0) return new HostAddresses(LookupOutcome.NotFound, null);
            if (IsDottedQuad(host, out var literal)) return new HostAddresses(LookupOutcome.Found, new[] { literal });
            var a = _dns.QueryAsync(host, DnsRecordType.A, cancellationToken);
            var aaaa = _dns.QueryAsync(host, DnsRecordType.AAAA, cancellationToken);
            // Both at hand (a cache hit, a recorded fact): no need to wait for them together.
            if (a.Status != TaskStatus.RanToCompletion || aaaa.Status != TaskStatus.RanToCompletion)
                await Task.WhenAll(a, aaaa).ConfigureAwait(false);
            var first = a.Result;
            var second = aaaa.Result;
            List<IPAddress> list = null;
            AddAddresses(first, ref list);
            AddAddresses(second, ref list);
            if (list != null) return new HostAddresses(LookupOutcome.Found, list);
            var failed = first.Status == DnsStatus.Failed ? first : second.Status == DnsStatus.Failed ? second : null;
            return failed != null
                ? new HostAddresses(LookupOutcome.Failed, null, failed.Error)
                : new HostAddresses(LookupOutcome.NotFound, null);
        }

        static void AddAddresses(DnsAnswer answer, ref List<IPAddress> list)
        {
            foreach (var v in answer.Values)
                if (IPAddress.TryParse(v, out var ip)) (list ?? (list = new List<IPAddress>())).Add(ip);
        }

        // Four groups of one to three digits, each at most 255, then whatever IPAddress makes of it.
        static bool IsDottedQuad(string s, out IPAddress ip)
        {
            ip = null;
            int parts = 0, digits = 0, value = 0;
            foreach (var c in s)
            {
                if (c == '.')
                {
                    if (digits == 0 || ++parts > 3) return false;
                    digits = 0;
                    value = 0;
                }
                else if (c >= '0' && c <= '9')
                {
                    if (++digits > 3) return false;
                    value = value * 10 + (c - '0');
                    if (value > 255) return false;
                }
                else return false;
            }
            if (parts != 3 || digits == 0) return false;
            return IPAddress.TryParse(s, out ip);
        }

        /// <summary>
        /// The walk of reference §2.4 with explicit NS and MX questions: ask the domain; on NXDOMAIN
        /// drop the leftmost label (one crop) and ask again; never ask a bare top-level name (a name
        /// with a trailing dot may reach <c>arpa.</c>). The first name that exists ends the walk.
        /// A question that fails makes the whole lookup Failed.
        /// </summary>
        /// <remarks>
        /// The original asked for ANY and collected NS and MX from the answer and authority sections;
        /// for a host the authority section carried the enclosing zone's NS set. Explicit questions
        /// get NODATA there, so when the name that exists has no NS records of its own, the NS set of
        /// the closest enclosing zone is looked up with NS questions (no crop counted, no MX of the
        /// apex), as reference §9 advises. The name's own MX records are kept either way.
        /// </remarks>
        /// <exception cref="ArgumentNullException"><paramref name="domain"/> is null.</exception>
        /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
        public async Task<NameServerSet> DiscoverNameServersAsync(string domain, CancellationToken cancellationToken = default)
        {
            if (domain == null) throw new ArgumentNullException(nameof(domain));
            string d = domain;
            int crops = 0;
            // An empty domain (the null sender) is not asked: there is nothing to walk.
            while (d.Length > 0 && d != ".")
            {
                var ns = _dns.QueryAsync(d, DnsRecordType.NS, cancellationToken);
                var mx = _dns.QueryAsync(d, DnsRecordType.MX, cancellationToken);
                var answers = await Task.WhenAll(ns, mx).ConfigureAwait(false);
                var failed = answers.FirstOrDefault(x => x.Status == DnsStatus.Failed);
                if (failed != null)
                    return new NameServerSet(LookupOutcome.Failed, null, null, crops, "NS/MX query for '" + d + "' failed: " + failed.Error);
                if (answers.Any(x => x.Status == DnsStatus.Ok))
                {
                    IReadOnlyList<string> nsNames = answers[0].Values;
                    string zone = nsNames.Count > 0 ? d : null;
                    bool enclosing = false;
                    if (nsNames.Count == 0)
                    {
                        var cut = await FindEnclosingZoneAsync(d, cancellationToken).ConfigureAwait(false);
                        if (cut.Error != null)
                            return new NameServerSet(LookupOutcome.Failed, null, null, crops, cut.Error);
                        if (cut.Zone != null)
                        {
                            nsNames = cut.Names;
                            zone = cut.Zone;
                            enclosing = true;
                        }
                    }
                    var names = nsNames.Concat(answers[1].Values).Select(n => PeerText.CleanName(n.TrimEnd('.')))
                        .Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxNames).ToList();
                    var addresses = new List<IPAddress>();
                    foreach (var n in names)
                    {
                        if (addresses.Count >= MaxAddresses) break;
                        var r = await ResolveHostAsync(n, cancellationToken).ConfigureAwait(false);
                        addresses.AddRange(r.Addresses.Take(MaxAddresses - addresses.Count));
                    }
                    return new NameServerSet(LookupOutcome.Found, names, addresses, crops, null, zone, enclosing);
                }
                var next = DropLabel(d);
                if (next == null) break;
                d = next;
                crops++;
            }
            return new NameServerSet(LookupOutcome.NotFound, null, null, crops);
        }

        /// <summary>
        /// The NS set of the closest name above <paramref name="name"/> that has one (the zone cut),
        /// asked with NS questions only. Like the crop walk it never asks a bare top-level name, and it
        /// asks at most <see cref="MaxZoneQuestions"/> names: a deeper name (many labels under a
        /// wildcard, say) gets no enclosing set rather than an unbounded run of questions.
        /// NXDOMAIN above a name that exists (a broken server) is passed over like no data.
        /// </summary>
        async Task<ZoneCut> FindEnclosingZoneAsync(string name, CancellationToken cancellationToken)
        {
            var p = DropLabel(name);
            for (int asked = 0; p != null && asked < MaxZoneQuestions; asked++, p = DropLabel(p))
            {
                var answer = await _dns.QueryAsync(p, DnsRecordType.NS, cancellationToken).ConfigureAwait(false);
                if (answer.Status == DnsStatus.Failed)
                    return new ZoneCut(null, null, "NS query for '" + p + "' (enclosing zone of '" + name + "') failed: " + answer.Error);
                if (answer.Values.Count > 0)
                    return new ZoneCut(p, answer.Values, null);
            }
            return new ZoneCut(null, null, null);
        }

        readonly struct ZoneCut
        {
            public ZoneCut(string zone, IReadOnlyList<string> names, string error) { Zone = zone; Names = names; Error = error; }
            public string Zone { get; }
            public IReadOnlyList<string> Names { get; }
            public string Error { get; }
        }

        /// <summary>Whether <paramref name="addresses"/> hold <paramref name="peer"/>, each compared as a
        /// <see cref="PeerAddress"/> (IPv4-mapped unwrapped, zone index dropped).</summary>
        static bool Contains(IReadOnlyList<IPAddress> addresses, IPAddress peer)
        {
            for (int i = 0; i < addresses.Count; i++)
            {
                var a = addresses[i];
                var compared = a.AddressFamily == AddressFamily.InterNetwork ? a : new PeerAddress(a).Address;
                if (compared.Equals(peer)) return true;
            }
            return false;
        }

        /// <summary>The name without its leftmost label, or null when that would leave no dot.</summary>
        static string DropLabel(string d)
        {
            int dot = d.IndexOf('.');
            if (dot < 0) return null;
            var rest = d.Substring(dot + 1);
            return rest.IndexOf('.') < 0 ? null : rest;
        }

        /// <summary>
        /// The peer's reverse name, cleaned. With <paramref name="confirm"/> (the default of the
        /// module) a PTR name counts only if its own A/AAAA answer contains the peer address;
        /// otherwise the peer has no name (UNKNOWN). Returns null for no (confirmed) name.
        /// </summary>
        public Task<ReverseName> ReverseNameAsync(IPAddress address, bool confirm, CancellationToken cancellationToken = default)
        {
            if (address == null) throw new ArgumentNullException(nameof(address));
            return ReverseNameOfAsync(new PeerAddress(address), confirm, cancellationToken);
        }

        static readonly ReverseName NoPtr = new ReverseName(null, null, LookupOutcome.NotFound, null);

        /// <summary>The reverse name of a peer whose address is already in its compared form.</summary>
        internal async Task<ReverseName> ReverseNameOfAsync(PeerAddress peer, bool confirm, CancellationToken cancellationToken = default)
        {
            var ptr = await _dns.QueryAsync(ReverseNames.ReverseName(peer.Address), DnsRecordType.PTR, cancellationToken).ConfigureAwait(false);
            if (ptr.Status == DnsStatus.Failed) return new ReverseName(null, null, LookupOutcome.Failed, ptr.Error);
            if (ptr.Values.Count == 0) return NoPtr;
            string firstName = null;
            string failure = null;
            for (int i = 0; i < ptr.Values.Count && i < 10; i++)
            {
                var name = ptr.Values[i].TrimEnd('.');
                if (firstName == null) firstName = name;
                if (!confirm) return new ReverseName(PeerText.CleanName(name), name, LookupOutcome.Found, null);
                var forward = await ResolveHostAsync(name, cancellationToken).ConfigureAwait(false);
                if (Contains(forward.Addresses, peer.Address))
                    return new ReverseName(PeerText.CleanName(name), name, LookupOutcome.Found, null);
                if (forward.Outcome == LookupOutcome.Failed && failure == null) failure = forward.Error ?? "lookup failed";
            }
            // A forward lookup that failed cannot say the name is wrong: whether the client has a name is unknown.
            return failure != null
                ? new ReverseName(null, firstName, LookupOutcome.Failed, "reverse name '" + firstName + "' could not be confirmed: " + failure)
                : new ReverseName(null, firstName, LookupOutcome.NotFound, "reverse name '" + firstName + "' does not resolve back to " + peer.Text);
        }
    }
}
