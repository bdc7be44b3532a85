using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>The macro values of one check (RFC 7208 §7.2), the client's validated names (§5.5)
    /// behind <c>ptr</c> and <c>%{p}</c>, and the explanation of a Fail (§6.2).</summary>
    sealed partial class SpfCheck
    {
        const int MaxPtrNames = 10;
        List<string> _validated;

        /// <summary>Expands a domain-spec for <paramref name="domain"/> into the name to ask.</summary>
        async Task<string> ExpandDomainAsync(string spec, string domain)
        {
            var tokens = SpfMacro.Parse(spec, explanation: false, out var error);
            if (tokens == null) throw SpfAbort.Perm(error);   // parsed once already: cannot happen
            return SpfMacro.TrimDomain(await SpfMacro.ExpandAsync(tokens, letter => ValueAsync(letter, domain)).ConfigureAwait(false));
        }

        async Task<string> ValueAsync(char letter, string domain)
        {
            switch (letter)
            {
                case 's': return Sender;
                case 'l': return Local;
                case 'o': return SenderDomain;
                case 'd': return domain;
                case 'i': return DottedAddress();
                case 'p': return await ValidatedNameAsync(domain).ConfigureAwait(false);
                case 'v': return _v6 ? "ip6" : "in-addr";
                case 'h': return Helo;
                case 'c': return _client.ToString();
                case 'r': return ReceivingHost;
                case 't': return DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                default: return "";
            }
        }

        /// <summary>%{i}: dotted quad, or for IPv6 the 32 nibbles separated by dots (§7.3).</summary>
        string DottedAddress()
        {
            if (!_v6) return _client.ToString();
            var sb = new StringBuilder(63);
            foreach (var b in _client.GetAddressBytes())
            {
                if (sb.Length > 0) sb.Append('.');
                sb.Append("0123456789abcdef"[b >> 4]).Append('.').Append("0123456789abcdef"[b & 0x0f]);
            }
            return sb.ToString();
        }

        /// <summary>%{p}: a validated name of the client, one in <paramref name="domain"/> if any, else
        /// any, else "unknown" (§7.3). Its lookups do not count against the limits of §4.6.4.</summary>
        async Task<string> ValidatedNameAsync(string domain)
        {
            var names = await ValidatedNamesAsync(countVoid: false).ConfigureAwait(false);
            foreach (var name in names)
                if (IsSameOrSubdomain(name, domain)) return name;
            return names.Count > 0 ? names[0] : "unknown";
        }

        /// <summary>§5.5: the first 10 PTR names of the client whose A/AAAA records include it. A failed PTR
        /// lookup yields none; a failed address lookup skips that name.</summary>
        async Task<List<string>> ValidatedNamesAsync(bool countVoid)
        {
            if (_validated != null) return _validated;
            var names = new List<string>();
            var ptr = await QueryAsync(ReverseNames.ReverseName(_client), DnsRecordType.PTR).ConfigureAwait(false);
            if (ptr.Status == DnsStatus.Failed) return names;   // not kept: a later ptr may ask again
            if (ptr.Values.Count == 0 && countVoid) CountVoid(ReverseNames.ReverseName(_client));
            var count = 0;
            foreach (var name in ptr.Values)
            {
                if (++count > MaxPtrNames) break;
                if (!IsQueryableName(name, requireDot: false)) continue;
                var addresses = await QueryAsync(name, _v6 ? DnsRecordType.AAAA : DnsRecordType.A).ConfigureAwait(false);
                foreach (var value in addresses.Values)
                    if (IPAddress.TryParse(value, out var address) && address.Equals(_client))
                    {
                        names.Add(name);
                        break;
                    }
            }
            _validated = names;
            return names;
        }

        /// <summary>§6.2: the explanation of a Fail, or null when anything about it is wrong (the name,
        /// the DNS, not exactly one TXT record, non-ASCII, a macro error). Not counted against the limits.</summary>
        public async Task<string> ExplainAsync(string spec, string domain)
        {
            try
            {
                var name = await ExpandDomainAsync(spec, domain).ConfigureAwait(false);
                if (!IsQueryableName(name, requireDot: false)) return null;
                var answer = await QueryAsync(name, DnsRecordType.TXT).ConfigureAwait(false);
                if (answer.Status != DnsStatus.Ok || answer.Values.Count != 1) return null;
                var tokens = SpfMacro.Parse(answer.Values[0], explanation: true, out _);
                if (tokens == null) return null;
                return await SpfMacro.ExpandAsync(tokens, letter => ValueAsync(letter, domain)).ConfigureAwait(false);
            }
            catch (SpfAbort)
            {
                return null;
            }
        }
    }
}
