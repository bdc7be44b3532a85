using System;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using SmtpdModule.Engine.Net;

namespace SmtpdModule.Engine.Rules
{
    /// <summary>The state store keys of greylisting: bounded in length whatever the addresses, and
    /// the same on every proxy, so several proxies behind one set of MX records share them.</summary>
    internal static class GreylistKeys
    {
        /// <summary>The client's network as CIDR text (an IPv4-mapped IPv6 peer counts as IPv4, as <see cref="PeerAddress"/> gives it).</summary>
        public static string Network(PeerAddress client, GreylistOptions o) => Network(client, o.IPv4PrefixLength, o.IPv6PrefixLength);

        /// <summary>The client's network as CIDR text, with the given prefix lengths.</summary>
        public static string Network(PeerAddress client, int ipv4PrefixLength, int ipv6PrefixLength)
        {
            if (!client.IsIPv6 && ipv4PrefixLength >= 0 && ipv4PrefixLength <= 32) return IPv4Network(client.Bytes, ipv4PrefixLength);
            var address = client.Address;   // IPv4-mapped IPv6 already in its IPv4 form
            var bits = address.AddressFamily == AddressFamily.InterNetwork ? ipv4PrefixLength : ipv6PrefixLength;
            var bytes = address.GetAddressBytes();
            for (int i = 0; i < bytes.Length; i++)
            {
                int keep = Math.Max(0, Math.Min(8, bits - i * 8));
                bytes[i] &= (byte)(0xFF << (8 - keep));
            }
            return new IPAddress(bytes) + "/" + bits;
        }

        // Every recipient's rate limit key holds the network: written straight from the bytes, as
        // IPAddress.ToString() writes a dotted quad, then the prefix length.
        static string IPv4Network(byte[] address, int bits)
        {
            var buffer = CharBuffer.Rent(24);
            int n = 0;
            for (int i = 0; i < 4; i++)
            {
                int keep = Math.Max(0, Math.Min(8, bits - i * 8));
                int b = address[i] & (byte)(0xFF << (8 - keep));
                if (i > 0) buffer[n++] = '.';
                if (b >= 100) buffer[n++] = (char)('0' + b / 100);
                if (b >= 10) buffer[n++] = (char)('0' + b / 10 % 10);
                buffer[n++] = (char)('0' + b % 10);
            }
            buffer[n++] = '/';
            if (bits >= 10) buffer[n++] = (char)('0' + bits / 10);
            buffer[n++] = (char)('0' + bits % 10);
            return CharBuffer.ToStringAndReturn(buffer, n);
        }

        public static string Allow(string identity) => GreylistCheck.KeyPrefix + "a:" + identity;

        public static string Trap(PeerAddress client) => GreylistCheck.KeyPrefix + "trap:" + client.Text;

        /// <summary>The triplet's key: a hash of identity, sender and recipient (addresses may be long).</summary>
        public static string Triplet(string identity, string from, string to) =>
            GreylistCheck.KeyPrefix + "t:" + Digest(identity + "\n" + from.ToLowerInvariant() + "\n" + to.ToLowerInvariant());

        /// <summary>128 bits of SHA-256 in hex: a key part of fixed length for text of any length.</summary>
        public static string Digest(string text)
        {
            using (var sha = SHA256.Create())
            {
                var hash = sha.ComputeHash(Encoding.UTF8.GetBytes(text));
                var b = new StringBuilder(32);
                for (int i = 0; i < 16; i++) b.Append(hash[i].ToString("x2"));
                return b.ToString();
            }
        }
    }
}
