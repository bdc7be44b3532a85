using System;
using System.Net;
using System.Net.Sockets;

namespace SmtpdModule.Engine.Net
{
    /// <summary>
    /// An address as the rules compare it: IPv4-mapped IPv6 addresses are unwrapped to IPv4, the
    /// text form (dotted quad, or compressed IPv6) and the bytes are computed once.
    /// </summary>
    public sealed class PeerAddress
    {
        readonly byte[] _bytes;

        public PeerAddress(IPAddress address)
        {
            if (address == null) throw new ArgumentNullException(nameof(address));
            if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
            else if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
                address = new IPAddress(address.GetAddressBytes());   // a zone index is not part of the identity
            Address = address;
            _bytes = address.GetAddressBytes();
            Text = address.ToString();
        }

        public IPAddress Address { get; }
        /// <summary>Dotted quad for IPv4, RFC 5952 text for IPv6: what <c>%I</c> shows and IP globs see.</summary>
        public string Text { get; }
        public bool IsIPv6 => _bytes.Length == 16;

        /// <summary>The address's bytes, IPv4 unwrapped: the caller must not change them.</summary>
        internal byte[] Bytes => _bytes;

        /// <summary>The IPv4 address as a 32-bit number (big-endian order); 0 for IPv6.</summary>
        public uint IPv4 => IsIPv6 ? 0u : (uint)(_bytes[0] << 24 | _bytes[1] << 16 | _bytes[2] << 8 | _bytes[3]);

        /// <summary>The IPv6 address as two 64-bit halves; (0, 0) for IPv4.</summary>
        public (ulong, ulong) IPv6Pair
        {
            get
            {
                if (!IsIPv6) return (0, 0);
                ulong hi = 0, lo = 0;
                for (int i = 0; i < 8; i++) { hi = hi << 8 | _bytes[i]; lo = lo << 8 | _bytes[i + 8]; }
                return (hi, lo);
            }
        }

        public bool InNetwork(byte[] network, int prefix)
        {
            if (network.Length != _bytes.Length) return false;
            int full = prefix / 8;
            for (int i = 0; i < full; i++)
                if (_bytes[i] != network[i]) return false;
            int rest = prefix % 8;
            if (rest == 0) return true;
            int mask = 0xFF << (8 - rest) & 0xFF;
            return (_bytes[full] & mask) == network[full];
        }

        public static PeerAddress Parse(string text)
        {
            if (!IPAddress.TryParse(text, out var ip)) throw new FormatException("'" + text + "' is not an IP address.");
            return new PeerAddress(ip);
        }

        public override string ToString() => Text;
    }
}
