using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>
    /// One run of check_host() (RFC 7208 §4) with its recursion through include and redirect: the
    /// counters of §4.6.4 are shared by the whole run, and so are the client's validated names.
    /// </summary>
    sealed partial class SpfCheck
    {
        const int MaxLookupTerms = 10;
        const int MaxVoidLookups = 2;
        const int MaxMxNames = 10;
        const int MaxLabel = 63;
        const int MaxName = 253;

        readonly IDnsResolver _dns;
        readonly CancellationToken _cancel;
        readonly IPAddress _client;
        readonly bool _v6;
        int _lookups, _terms, _voids;

        public SpfCheck(IDnsResolver dns, IPAddress client, string sender, string local, string senderDomain, string helo,
            string receivingHost, CancellationToken cancel)
        {
            _dns = dns;
            _cancel = cancel;
            // §5 item 9.2 of the suite, RFC 7208 §5: an IPv4-mapped IPv6 client is an IPv4 client.
            _client = client.AddressFamily == AddressFamily.InterNetworkV6 && client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
            _v6 = _client.AddressFamily == AddressFamily.InterNetworkV6;
            Sender = sender;
            Local = local;
            SenderDomain = senderDomain;
            Helo = helo;
            ReceivingHost = receivingHost;
        }

        public string Sender { get; }
        public string Local { get; }
        public string SenderDomain { get; }
        public string Helo { get; }
        public string ReceivingHost { get; }

        /// <summary>What check_host() returned: the result, the deciding term, and the exp= to use on Fail
        /// with the domain whose record gave it.</summary>
        internal struct Outcome
        {
            public SpfResult Result;
            public string Mechanism;
            public string Explanation;
            public string Domain;
        }

        public SpfCheckResult Result(SpfIdentity identity, string domain, SpfResult result, string mechanism, string explanation, string problem) =>
            new SpfCheckResult(result, identity, Sender, domain, mechanism, explanation, _lookups, _terms, _voids, problem);

        /// <summary>check_host() for <paramref name="domain"/>; PermError and TempError leave as <see cref="SpfAbort"/>.</summary>
        public async Task<Outcome> CheckHostAsync(string domain, bool top)
        {
            var answer = await QueryAsync(domain, DnsRecordType.TXT).ConfigureAwait(false);
            if (answer.Status == DnsStatus.Failed)
                throw SpfAbort.Temp("the TXT lookup for " + domain + " failed: " + answer.Error);
            string text = null;
            foreach (var value in answer.Values)
            {
                if (!SpfRecordParser.IsSpf1(value)) continue;
                if (text != null) throw SpfAbort.Perm(domain + " has more than one SPF record");   // §4.5
                text = value;
            }
            if (text == null)
                return new Outcome { Result = SpfResult.None, Domain = domain };

            var record = SpfRecordParser.Parse(text, out var error);
            if (record == null) throw SpfAbort.Perm(domain + ": " + error);

            foreach (var mechanism in record.Mechanisms)
            {
                _cancel.ThrowIfCancellationRequested();
                if (await MatchesAsync(mechanism, domain).ConfigureAwait(false))
                    return new Outcome { Result = mechanism.Qualifier, Mechanism = mechanism.Text, Explanation = record.Explanation, Domain = domain };
            }

            if (record.Redirect != null)
            {
                // §6.1: the redirect's result is the result, its own exp= included; this record's is not used.
                CountTerm();
                var target = await ExpandDomainAsync(record.Redirect, domain).ConfigureAwait(false);
                if (!IsQueryableName(target, requireDot: false))
                    throw SpfAbort.Perm(domain + ": redirect to '" + target + "', which is not a domain name");
                var redirected = await CheckHostAsync(target, top: false).ConfigureAwait(false);
                if (redirected.Result == SpfResult.None)
                    throw SpfAbort.Perm(domain + ": redirect to " + target + ", which has no SPF record");
                return redirected;
            }
            // §4.7: nothing matched.
            return new Outcome { Result = SpfResult.Neutral, Domain = domain };
        }

        async Task<bool> MatchesAsync(SpfMechanism m, string domain)
        {
            switch (m.Kind)
            {
                case SpfMechanismKind.All:
                    return true;
                case SpfMechanismKind.Ip4:
                    return !_v6 && SpfEvaluator.InNetwork(_client, m.Network, m.Cidr4);
                case SpfMechanismKind.Ip6:
                    return _v6 && SpfEvaluator.InNetwork(_client, m.Network, m.Cidr6);
            }

            CountTerm();
            var target = m.DomainSpec == null ? domain : await ExpandDomainAsync(m.DomainSpec, domain).ConfigureAwait(false);
            switch (m.Kind)
            {
                case SpfMechanismKind.Include:
                {
                    if (!IsQueryableName(target, requireDot: false))
                        throw SpfAbort.Perm(domain + ": " + m.Text + " names '" + target + "', which is not a domain name");
                    // §5.2: the included domain's exp= is never used; None there is PermError here.
                    var inner = await CheckHostAsync(target, top: false).ConfigureAwait(false);
                    if (inner.Result == SpfResult.None)
                        throw SpfAbort.Perm(domain + ": " + m.Text + ": " + target + " has no SPF record");
                    return inner.Result == SpfResult.Pass;
                }
                case SpfMechanismKind.Exists:
                {
                    // A name no DNS question can carry (a label over 63, an empty label) matches nothing (§4.8 by analogy).
                    if (!IsQueryableName(target, requireDot: false)) return false;
                    var answer = await TermQueryAsync(m, target, DnsRecordType.A).ConfigureAwait(false);
                    return answer.Values.Count > 0;
                }
                case SpfMechanismKind.A:
                {
                    if (!IsQueryableName(target, requireDot: false)) return false;
                    var answer = await TermQueryAsync(m, target, _v6 ? DnsRecordType.AAAA : DnsRecordType.A).ConfigureAwait(false);
                    return AnyInNetwork(answer, m);
                }
                case SpfMechanismKind.Mx:
                {
                    if (!IsQueryableName(target, requireDot: false)) return false;
                    var mx = await TermQueryAsync(m, target, DnsRecordType.MX).ConfigureAwait(false);
                    if (mx.Values.Count > MaxMxNames)
                        throw SpfAbort.Perm(domain + ": " + m.Text + ": " + target + " has " + mx.Values.Count + " MX names, more than " + MaxMxNames);
                    foreach (var host in mx.Values)
                    {
                        // A null MX (RFC 7505, target ".") names no host.
                        if (!IsQueryableName(host, requireDot: false)) continue;
                        var addresses = await QueryAsync(host, _v6 ? DnsRecordType.AAAA : DnsRecordType.A).ConfigureAwait(false);
                        if (addresses.Status == DnsStatus.Failed)
                            throw SpfAbort.Temp(domain + ": " + m.Text + ": the address lookup for " + host + " failed: " + addresses.Error);
                        if (AnyInNetwork(addresses, m)) return true;
                    }
                    return false;
                }
                case SpfMechanismKind.Ptr:
                {
                    foreach (var name in await ValidatedNamesAsync(countVoid: true).ConfigureAwait(false))
                        if (IsSameOrSubdomain(name, target)) return true;
                    return false;
                }
            }
            return false;
        }

        bool AnyInNetwork(DnsAnswer answer, SpfMechanism m)
        {
            foreach (var value in answer.Values)
                if (IPAddress.TryParse(value, out var address)
                    && SpfEvaluator.InNetwork(_client, address, _v6 ? m.Cidr6 : m.Cidr4))
                    return true;
            return false;
        }

        /// <summary>A term's own question: a failure is TempError, an empty answer a void lookup (§4.6.4).</summary>
        async Task<DnsAnswer> TermQueryAsync(SpfMechanism m, string name, DnsRecordType type)
        {
            var answer = await QueryAsync(name, type).ConfigureAwait(false);
            if (answer.Status == DnsStatus.Failed)
                throw SpfAbort.Temp(m.Text + ": the " + type + " lookup for " + name + " failed: " + answer.Error);
            if (answer.Values.Count == 0) CountVoid(name);
            return answer;
        }

        async Task<DnsAnswer> QueryAsync(string name, DnsRecordType type)
        {
            _lookups++;
            return await _dns.QueryAsync(name, type, _cancel).ConfigureAwait(false);
        }

        void CountTerm()
        {
            if (++_terms > MaxLookupTerms)
                throw SpfAbort.Perm("more than " + MaxLookupTerms + " DNS-querying terms (RFC 7208 §4.6.4)");
        }

        void CountVoid(string name)
        {
            if (++_voids > MaxVoidLookups)
                throw SpfAbort.Perm("more than " + MaxVoidLookups + " void lookups, the last for " + name + " (RFC 7208 §4.6.4)");
        }

        internal static bool IsSameOrSubdomain(string name, string domain)
        {
            name = name.TrimEnd('.');
            domain = domain.TrimEnd('.');
            return name.Equals(domain, StringComparison.OrdinalIgnoreCase)
                || name.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>Whether a DNS question can carry <paramref name="name"/>: labels of 1 to 63 characters,
        /// at most 253 in all; with <paramref name="requireDot"/>, at least two labels (§4.3's FQDN).</summary>
        internal static bool IsQueryableName(string name, bool requireDot)
        {
            if (string.IsNullOrEmpty(name)) return false;
            var n = name.EndsWith(".", StringComparison.Ordinal) ? name.Substring(0, name.Length - 1) : name;
            if (n.Length == 0 || n.Length > MaxName) return false;
            var labels = n.Split('.');
            if (requireDot && labels.Length < 2) return false;
            foreach (var label in labels)
                if (label.Length == 0 || label.Length > MaxLabel) return false;
            return true;
        }
    }
}
