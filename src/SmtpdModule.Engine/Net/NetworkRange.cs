using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net;

namespace SmtpdModule.Engine.Net
{
    /// <summary>An IPv4 or IPv6 network in CIDR form (<c>192.0.2.0/24</c>, <c>2001:db8::/32</c>); a bare
    /// address is its own /32 or /128. IPv4-mapped IPv6 peers compare as IPv4, as the rules do.</summary>
    public sealed class NetworkRange
    {
        readonly byte[] _network;
        readonly int _prefix;

        NetworkRange(byte[] network, int prefix, string text)
        {
            _network = network;
            _prefix = prefix;
            Text = text;
        }

        /// <summary>The network as given.</summary>
        public string Text { get; }

        /// <summary>Parses <c>address[/prefix]</c>; host bits after the prefix are ignored.</summary>
        public static bool TryParse(string text, out NetworkRange range, out string error)
        {
            range = null;
            error = null;
            var t = (text ?? "").Trim();
            int slash = t.IndexOf('/');
            var addressText = slash < 0 ? t : t.Substring(0, slash);
            if (!IPText.TryParseAddress(addressText, out var address, out var why))
            {
                error = "'" + text + "' is not a network: " + why + ". Expected CIDR such as 192.0.2.0/24 or 2001:db8::/32.";
                return false;
            }
            var bytes = new PeerAddress(address).Address.GetAddressBytes();
            int max = bytes.Length * 8, prefix = max;
            if (slash >= 0 && (!int.TryParse(t.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max))
            {
                error = "'" + text + "' is not a network: the prefix length must be 0 to " + max + ".";
                return false;
            }
            range = new NetworkRange(bytes, prefix, t);
            return true;
        }

        /// <summary>The network holds <paramref name="peer"/>.</summary>
        public bool Contains(PeerAddress peer)
        {
            var b = peer.Address.GetAddressBytes();
            if (b.Length != _network.Length) return false;
            int full = _prefix / 8, rest = _prefix % 8;
            for (int i = 0; i < full; i++) if (b[i] != _network[i]) return false;
            if (rest == 0) return true;
            int mask = 0xFF << (8 - rest) & 0xFF;
            return (b[full] & mask) == (_network[full] & mask);
        }

        /// <summary>Parses a list of networks (an option's exemptions).</summary>
        /// <exception cref="ArgumentException">One is not a network; <paramref name="option"/> is its ParamName.</exception>
        public static IReadOnlyList<NetworkRange> ParseList(IEnumerable<string> texts, string option)
        {
            var list = new List<NetworkRange>();
            foreach (var text in texts ?? new string[0])
            {
                if (!TryParse(text, out var range, out var error)) throw new ArgumentException(error, option);
                list.Add(range);
            }
            return list;
        }

        /// <summary>One of <paramref name="networks"/> holds <paramref name="peer"/>.</summary>
        public static bool AnyContains(IReadOnlyList<NetworkRange> networks, PeerAddress peer)
        {
            foreach (var n in networks)
                if (n.Contains(peer)) return true;
            return false;
        }

        public override string ToString() => Text;
    }
}
