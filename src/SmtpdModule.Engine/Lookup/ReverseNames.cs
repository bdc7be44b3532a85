using System;
using System.Net;
using System.Net.Sockets;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// The DNS names under which an address is looked up: its reverse (PTR) name and its name in a
    /// DNS block list. Both reverse the address: octets for IPv4 (RFC 1035 section 3.5), nibbles for
    /// IPv6 (RFC 3596 section 2.5); a block list puts its zone where the reverse tree has
    /// <c>in-addr.arpa</c> or <c>ip6.arpa</c> (RFC 5782 sections 2.1 and 2.4).
    /// </summary>
    /// <remarks>
    /// An IPv4-mapped IPv6 address (<c>::ffff:192.0.2.10</c>) is the IPv4 client it stands for: a
    /// dual-stack listener reports IPv4 clients that way, and their PTR and listings are IPv4 ones.
    /// Names carry no trailing dot, like the values in <see cref="DnsAnswer"/>.
    /// </remarks>
    public static class ReverseNames
    {
        const string HexDigits = "0123456789abcdef";

        /// <summary>The name whose PTR record names <paramref name="address"/>:
        /// <c>10.2.0.192.in-addr.arpa</c> for 192.0.2.10, 32 nibbles then <c>ip6.arpa</c> for IPv6.</summary>
        /// <param name="address">An IPv4 or IPv6 address.</param>
        /// <exception cref="ArgumentNullException"><paramref name="address"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="address"/> is neither IPv4 nor IPv6.</exception>
        public static string ReverseName(IPAddress address)
        {
            var bytes = Bytes(address, nameof(address));
            return Reversed(bytes, bytes.Length == 4 ? "in-addr.arpa" : "ip6.arpa");
        }

        /// <summary>The name a DNS block list answers for <paramref name="address"/>:
        /// <c>10.2.0.192.bl.test</c> for 192.0.2.10 in zone <c>bl.test</c>.</summary>
        /// <param name="address">An IPv4 or IPv6 address.</param>
        /// <param name="zone">The list's zone, such as <c>bl.test</c>; one trailing dot is ignored.</param>
        /// <exception cref="ArgumentNullException"><paramref name="address"/> or <paramref name="zone"/> is null.</exception>
        /// <exception cref="ArgumentException"><paramref name="address"/> is neither IPv4 nor IPv6, or
        /// <paramref name="zone"/> is empty or has an empty label.</exception>
        public static string DnsblName(IPAddress address, string zone)
        {
            var z = Zone(zone);
            return Reversed(Bytes(address, nameof(address)), z);
        }

        /// <summary><see cref="DnsblName(IPAddress, string)"/> for a peer whose bytes are at hand.</summary>
        internal static string DnsblNameOf(Net.PeerAddress peer, string zone)
        {
            var z = Zone(zone);
            return Reversed(peer.Bytes, z);
        }

        static string Zone(string zone)
        {
            if (zone == null)
                throw new ArgumentNullException(nameof(zone));
            var z = zone.EndsWith(".", StringComparison.Ordinal) ? zone.Substring(0, zone.Length - 1) : zone;
            if (z.Length == 0 || z.StartsWith(".", StringComparison.Ordinal) || z.IndexOf("..", StringComparison.Ordinal) >= 0)
                throw new ArgumentException("'" + zone + "' is not a DNS block list zone: it is empty or has an empty label.", nameof(zone));
            if (z.Trim().Length != z.Length || z.IndexOf(' ') >= 0)
                throw new ArgumentException("'" + zone + "' is not a DNS block list zone: it contains white space.", nameof(zone));

            return z;
        }

        static byte[] Bytes(IPAddress address, string paramName)
        {
            if (address == null)
                throw new ArgumentNullException(paramName);
            if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.IsIPv4MappedToIPv6)
                address = address.MapToIPv4();
            if (address.AddressFamily != AddressFamily.InterNetwork && address.AddressFamily != AddressFamily.InterNetworkV6)
                throw new ArgumentException("'" + address + "' is neither an IPv4 nor an IPv6 address.", paramName);
            return address.GetAddressBytes();
        }

        // Each octet in decimal (IPv4) or nibble in hex (IPv6), last first, each followed by a dot; then the suffix.
        static string Reversed(byte[] bytes, string suffix)
        {
            // Every lookup of a session builds one of these names: one string each.
            var buffer = Net.CharBuffer.Rent((bytes.Length == 4 ? 16 : 64) + suffix.Length);
            int n = 0;
            for (var i = bytes.Length - 1; i >= 0; i--)
            {
                int b = bytes[i];
                if (bytes.Length == 4)
                {
                    if (b >= 100) buffer[n++] = (char)('0' + b / 100);
                    if (b >= 10) buffer[n++] = (char)('0' + b / 10 % 10);
                    buffer[n++] = (char)('0' + b % 10);
                }
                else
                {
                    buffer[n++] = HexDigits[b & 0x0f];
                    buffer[n++] = '.';
                    buffer[n++] = HexDigits[b >> 4];
                }
                buffer[n++] = '.';
            }
            suffix.CopyTo(0, buffer, n, suffix.Length);
            return Net.CharBuffer.ToStringAndReturn(buffer, n + suffix.Length);
        }
    }
}
