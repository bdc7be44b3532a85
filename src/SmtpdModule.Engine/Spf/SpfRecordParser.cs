using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace SmtpdModule.Engine.Spf
{
    /// <summary>
    /// Parses a whole <c>v=spf1</c> record before any of it is evaluated, so a syntax error anywhere
    /// is a PermError even behind a mechanism that would match (RFC 7208 §4.6).
    /// </summary>
    static class SpfRecordParser
    {
        const string Version = "v=spf1";

        static readonly Regex Modifier = new Regex(@"^([A-Za-z][A-Za-z0-9\-_.]*)=(.*)$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        static readonly Regex DualCidr = new Regex(@"^(.*?)(?:/([0-9]+))?(?://([0-9]+))?$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
        static readonly Regex Ip4 = new Regex(@"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])$", RegexOptions.CultureInvariant);
        static readonly Regex Ip6Chars = new Regex(@"^[0-9A-Fa-f:.]+$", RegexOptions.CultureInvariant);

        /// <summary>Whether <paramref name="txt"/> is an SPF version 1 record: exactly <c>v=spf1</c>, or
        /// <c>v=spf1</c> and a space, in any case (§4.5).</summary>
        public static bool IsSpf1(string txt) =>
            txt != null && txt.StartsWith(Version, StringComparison.OrdinalIgnoreCase)
            && (txt.Length == Version.Length || txt[Version.Length] == ' ');

        /// <summary>Parses <paramref name="txt"/> (an <see cref="IsSpf1"/> record); null with <paramref name="error"/> on a syntax error.</summary>
        public static SpfRecord Parse(string txt, out string error)
        {
            error = null;
            foreach (var c in txt)
                if (c < 0x20 || c > 0x7E)
                {
                    // §3.1 and §4.6.1: records are 7-bit ASCII, terms separated by spaces only.
                    error = "the record holds character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture) + " (only printable ASCII and spaces are allowed)";
                    return null;
                }

            var mechanisms = new List<SpfMechanism>();
            string redirect = null, exp = null;
            bool sawRedirect = false, sawExp = false;
            var terms = txt.Substring(Version.Length).Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
            foreach (var term in terms)
            {
                var m = Modifier.Match(term);
                if (m.Success)
                {
                    var name = m.Groups[1].Value.ToLowerInvariant();
                    var value = m.Groups[2].Value;
                    if (name == "redirect" || name == "exp")
                    {
                        // §6: each at most once.
                        if (name == "redirect" ? sawRedirect : sawExp) { error = "'" + name + "=' appears twice"; return null; }
                        if (name == "redirect") sawRedirect = true; else sawExp = true;
                        // An empty exp= is as if none were given (§6.2); redirect= needs a domain.
                        if (name == "exp" && value.Length == 0) continue;
                        if (!SpfMacro.IsDomainSpec(value, out var why)) { error = "'" + term + "': " + why; return null; }
                        if (name == "redirect") redirect = value; else exp = value;
                    }
                    else if (SpfMacro.Parse(value, explanation: false, out var why) == null)
                    {
                        error = "'" + term + "': " + why;
                        return null;
                    }
                    continue;
                }
                var mechanism = ParseMechanism(term, out error);
                if (mechanism == null) return null;
                mechanisms.Add(mechanism);
            }
            return new SpfRecord(mechanisms, redirect, exp);
        }

        static SpfMechanism ParseMechanism(string term, out string error)
        {
            error = null;
            var qualifier = SpfResult.Pass;
            var i = 0;
            switch (term[0])
            {
                case '+': qualifier = SpfResult.Pass; i = 1; break;
                case '-': qualifier = SpfResult.Fail; i = 1; break;
                case '~': qualifier = SpfResult.SoftFail; i = 1; break;
                case '?': qualifier = SpfResult.Neutral; i = 1; break;
            }
            var end = term.IndexOfAny(new[] { ':', '/' }, i);
            var name = (end < 0 ? term.Substring(i) : term.Substring(i, end - i)).ToLowerInvariant();
            var rest = end < 0 ? "" : term.Substring(end);
            string domain = null, why;
            int cidr4 = 32, cidr6 = 128;
            switch (name)
            {
                case "all":
                    if (rest.Length != 0) break;
                    return new SpfMechanism(term, qualifier, SpfMechanismKind.All, null, null, 32, 128);
                case "include":
                case "exists":
                    if (!rest.StartsWith(":", StringComparison.Ordinal)) break;
                    domain = rest.Substring(1);
                    if (!SpfMacro.IsDomainSpec(domain, out why)) { error = "'" + term + "': " + why; return null; }
                    return new SpfMechanism(term, qualifier, name == "include" ? SpfMechanismKind.Include : SpfMechanismKind.Exists, domain, null, 32, 128);
                case "ptr":
                    if (rest.Length == 0) return new SpfMechanism(term, qualifier, SpfMechanismKind.Ptr, null, null, 32, 128);
                    if (!rest.StartsWith(":", StringComparison.Ordinal)) break;
                    domain = rest.Substring(1);
                    if (!SpfMacro.IsDomainSpec(domain, out why)) { error = "'" + term + "': " + why; return null; }
                    return new SpfMechanism(term, qualifier, SpfMechanismKind.Ptr, domain, null, 32, 128);
                case "a":
                case "mx":
                    var cidr = DualCidr.Match(rest);
                    var spec = cidr.Groups[1].Value;
                    if (!TryCidr(cidr.Groups[2], 32, ref cidr4) || !TryCidr(cidr.Groups[3], 128, ref cidr6))
                    {
                        error = "'" + term + "': bad CIDR length";
                        return null;
                    }
                    if (spec.Length != 0)
                    {
                        if (!spec.StartsWith(":", StringComparison.Ordinal)) break;
                        domain = spec.Substring(1);
                        if (!SpfMacro.IsDomainSpec(domain, out why)) { error = "'" + term + "': " + why; return null; }
                    }
                    return new SpfMechanism(term, qualifier, name == "a" ? SpfMechanismKind.A : SpfMechanismKind.Mx, domain, null, cidr4, cidr6);
                case "ip4":
                case "ip6":
                    if (!rest.StartsWith(":", StringComparison.Ordinal)) break;
                    var v6 = name == "ip6";
                    var slash = rest.IndexOf('/');
                    var address = slash < 0 ? rest.Substring(1) : rest.Substring(1, slash - 1);
                    var length = v6 ? 128 : 32;
                    if (slash >= 0)
                    {
                        var digits = rest.Substring(slash + 1);
                        if (!Regex.IsMatch(digits, "^(0|[1-9][0-9]{0,2})$") || int.Parse(digits, CultureInfo.InvariantCulture) > length)
                        {
                            error = "'" + term + "': bad CIDR length";
                            return null;
                        }
                        length = int.Parse(digits, CultureInfo.InvariantCulture);
                    }
                    if (!TryNetwork(address, v6, out var network)) { error = "'" + term + "': '" + address + "' is not an " + (v6 ? "IPv6" : "IPv4") + " network"; return null; }
                    return new SpfMechanism(term, qualifier, v6 ? SpfMechanismKind.Ip6 : SpfMechanismKind.Ip4, null, network, v6 ? 32 : length, v6 ? length : 128);
            }
            error = "'" + term + "' is not a mechanism or modifier";
            return null;
        }

        // Lengths without leading zeros (ip4-cidr-length = "/" ("0" / %x31-39 0*1DIGIT), §5.6).
        static bool TryCidr(Group group, int max, ref int value)
        {
            if (!group.Success) return true;
            var text = group.Value;
            if (text.Length > 3 || (text.Length > 1 && text[0] == '0')) return false;
            var n = int.Parse(text, CultureInfo.InvariantCulture);
            if (n > max) return false;
            value = n;
            return true;
        }

        static bool TryNetwork(string text, bool v6, out IPAddress network)
        {
            network = null;
            if (v6)
            {
                if (!Ip6Chars.IsMatch(text) || text.IndexOf(':') < 0) return false;
                return IPAddress.TryParse(text, out network) && network.AddressFamily == AddressFamily.InterNetworkV6;
            }
            return Ip4.IsMatch(text) && IPAddress.TryParse(text, out network);
        }
    }
}
