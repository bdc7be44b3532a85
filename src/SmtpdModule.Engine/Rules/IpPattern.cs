using System;
using System.Net;
using System.Net.Sockets;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>
    /// The original's IP matcher (reference §2.2), used for source hosts and for name-server
    /// addresses: <c>ALL</c>, <c>RBL.zone</c>, masked IPv4 (<c>a.b.c.d[/n]</c>, <c>0/0</c>), an IP
    /// glob against the address text, and our IPv6 extension <c>[addr]</c> / <c>[addr]/len</c>.
    /// </summary>
    /// <remarks>Kept on purpose: partial addresses (<c>192.168.1</c>, <c>10/8</c>), octets over 255 and
    /// bad masks match nothing, silently in the original; here the parser also reports them.</remarks>
    public sealed class IpPattern
    {
        public enum PatternKind { All, Dnsbl, Masked, Glob, Never }

        readonly byte[] _network;   // masked network bytes (4 or 16)
        readonly int _prefix;

        IpPattern(string text, PatternKind kind, string zone = null, byte[] network = null, int prefix = 0, Glob glob = null, string never = null,
                  DnsblFilter filter = null)
        {
            DnsblAnswerFilter = filter;
            Text = text;
            Kind = kind;
            DnsblZone = zone;
            _network = network;
            _prefix = prefix;
            GlobPattern = glob;
            NeverReason = never;
        }

        static readonly IpPattern All = new IpPattern("ALL", PatternKind.All);

        public string Text { get; }
        public PatternKind Kind { get; }
        /// <summary>The zone after <c>RBL.</c>.</summary>
        public string DnsblZone { get; }
        /// <summary>Which answers count as listed (<c>RBL.zone=127.0.0.2</c>, <c>RBL.zone&amp;0.0.0.4</c>); null: any 127/8 answer.</summary>
        public DnsblFilter DnsblAnswerFilter { get; }
        /// <summary>Why the answer filter does not parse (a load error), with its offset in the token; null when it does.</summary>
        public string FilterError { get; private set; }
        public int FilterErrorOffset { get; private set; }
        public Glob GlobPattern { get; }
        /// <summary>Why the token can never match, for the load-time warning; null otherwise.</summary>
        public string NeverReason { get; }
        public bool IsIPv6 => _network != null && _network.Length == 16;
        public int PrefixLength => _prefix;
        /// <summary>The network address of a masked pattern (host bits cleared).</summary>
        public IPAddress Network => _network == null ? null : new IPAddress(_network);

        public static IpPattern Parse(string token)
        {
            if (token == "ALL") return All;
            if (token.StartsWith("RBL.", StringComparison.Ordinal))   // case-sensitive prefix (§2.2)
            {
                DnsblFilter.Split(token.Substring(4), out var zone, out var filter, out var error, out var offset);
                if (error != null)
                    return new IpPattern(token, PatternKind.Never, never: error) { FilterError = error, FilterErrorOffset = 4 + offset };
                zone = zone.TrimEnd('.');
                if (zone.Length == 0 || zone.StartsWith(".", StringComparison.Ordinal) || zone.IndexOf("..", StringComparison.Ordinal) >= 0)
                    return new IpPattern(token, PatternKind.Never, never: "'" + token + "' names no valid DNSBL zone");
                return new IpPattern(token, PatternKind.Dnsbl, zone: zone, filter: filter);
            }
            if (token.Length > 0 && token[0] == '[') return ParseIPv6(token);

            int slash = token.IndexOf('/');
            string addressPart = slash < 0 ? token : token.Substring(0, slash);

            // Step 1: anything but digits and dots (or "..") means the whole token is a glob on the text.
            if (addressPart.IndexOf("..", StringComparison.Ordinal) >= 0 || !OnlyDigitsAndDots(addressPart))
                return new IpPattern(token, PatternKind.Glob, glob: new Glob(token));

            uint address;
            int dots = Count(addressPart, '.');
            if (dots == 3)
            {
                if (!TryParseFourOctets(addressPart, out address, out var why))
                    return new IpPattern(token, PatternKind.Never, never: why);
            }
            else if (addressPart == "0")
                address = 0;
            else
                // Step 4: anything else is globbed against the dotted quad and, without a star, never matches.
                return new IpPattern(token, PatternKind.Never, never: dots < 3
                    ? "partial address '" + addressPart + "' never matches a full address"
                    : "'" + addressPart + "' is not an IPv4 address");

            int prefix = 32;
            if (slash >= 0)
            {
                var mask = token.Substring(slash + 1);
                if (!TryParsePrefix(mask, 32, out prefix))
                    return new IpPattern(token, PatternKind.Never, never: "mask '/" + mask + "' is not a prefix length 0-32");
            }
            uint m = prefix == 0 ? 0u : uint.MaxValue << (32 - prefix);
            address &= m;   // host bits in the pattern are masked away
            var bytes = new[] { (byte)(address >> 24), (byte)(address >> 16), (byte)(address >> 8), (byte)address };
            return new IpPattern(token, PatternKind.Masked, network: bytes, prefix: prefix);
        }

        static IpPattern ParseIPv6(string token)
        {
            int close = token.IndexOf(']');
            if (close < 0) return new IpPattern(token, PatternKind.Never, never: "'[' without ']'");
            var inner = token.Substring(1, close - 1);
            if (!IPAddress.TryParse(inner, out var ip) || ip.AddressFamily != AddressFamily.InterNetworkV6 || inner.IndexOf('%') >= 0)
                return new IpPattern(token, PatternKind.Never, never: "'" + inner + "' is not an IPv6 address");
            int prefix = 128;
            var rest = token.Substring(close + 1);
            if (rest.Length > 0)
            {
                if (rest[0] != '/' || !TryParsePrefix(rest.Substring(1), 128, out prefix))
                    return new IpPattern(token, PatternKind.Never, never: "'" + rest + "' is not a prefix length /0-/128");
            }
            var bytes = ip.GetAddressBytes();
            if (ip.IsIPv4MappedToIPv6 && prefix >= 96)
            {
                // ::ffff:a.b.c.d/len is an IPv4 pattern: peers are compared in their IPv4 form.
                var v4 = new byte[] { bytes[12], bytes[13], bytes[14], bytes[15] };
                Mask(v4, prefix - 96);
                return new IpPattern(token, PatternKind.Masked, network: v4, prefix: prefix - 96);
            }
            Mask(bytes, prefix);
            return new IpPattern(token, PatternKind.Masked, network: bytes, prefix: prefix);
        }

        static void Mask(byte[] bytes, int prefix)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                int bits = Math.Max(0, Math.Min(8, prefix - i * 8));
                bytes[i] &= (byte)(bits == 0 ? 0 : 0xFF << (8 - bits));
            }
        }

        static bool TryParsePrefix(string text, int max, out int prefix)
        {
            prefix = 0;
            if (text.Length == 0 || text.Length > 3) return false;
            foreach (var c in text)
            {
                if (c < '0' || c > '9') return false;
                prefix = prefix * 10 + (c - '0');
            }
            return prefix <= max;
        }

        static bool TryParseFourOctets(string text, out uint address, out string why)
        {
            // Four decimal numbers; leading zeros are decimal, not octal (reference §2.2 step 2).
            address = 0;
            why = null;
            int part = 0, value = 0, digits = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || text[i] == '.')
                {
                    if (digits == 0) { why = "malformed address '" + text + "' never matches"; return false; }
                    if (value > 255) { why = "an octet of '" + text + "' is over 255: never matches"; return false; }
                    address = (address << 8) | (uint)value;
                    part++;
                    value = 0;
                    digits = 0;
                    continue;
                }
                value = value * 10 + (text[i] - '0');
                if (++digits > 3 && value > 255) value = 256;   // long runs of leading zeros stay bounded
            }
            return part == 4;
        }

        static bool OnlyDigitsAndDots(string s)
        {
            foreach (var c in s)
                if ((c < '0' || c > '9') && c != '.') return false;
            return true;
        }

        static int Count(string s, char c)
        {
            int n = 0;
            foreach (var x in s) if (x == c) n++;
            return n;
        }

        /// <summary>Masked comparison of a peer address (IPv4 as 4 bytes, IPv6 as 16).</summary>
        public bool MatchesAddress(PeerAddress peer)
        {
            switch (Kind)
            {
                case PatternKind.All: return true;
                case PatternKind.Masked: return peer.InNetwork(_network, _prefix);
                case PatternKind.Glob: return GlobPattern.IsMatch(peer.Text);
                default: return false;   // Dnsbl needs a lookup: the evaluator handles it
            }
        }

        public override string ToString() => Text;
    }
}
