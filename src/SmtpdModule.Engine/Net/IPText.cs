using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SmtpdModule.Engine.Net
{
    /// <summary>
    /// Strict parsing of the addresses and end points an admin types (-ClientAddress, -DnsServer,
    /// -Listen): an IPv4 address is four decimal numbers without leading zeros (no <c>127.1</c>, no
    /// octal, no hex, no host names); an IPv6 address may stand in brackets and has no zone
    /// index; a port follows <c>:</c> (after <c>]</c> for IPv6). Errors say what was wrong.
    /// </summary>
    public static class IPText
    {
        /// <summary>Parses an IPv4 or IPv6 address (IPv6 optionally in brackets).</summary>
        public static bool TryParseAddress(string text, out IPAddress address, out string why)
        {
            address = null;
            var s = text?.Trim() ?? "";
            if (s.Length == 0) { why = "the address is empty"; return false; }
            if (s[0] == '[')
            {
                if (s[s.Length - 1] != ']') { why = "'[' without a closing ']'"; return false; }
                s = s.Substring(1, s.Length - 2);
                if (!TryParseIPv6(s, out address)) { why = "'" + s + "' between brackets is not an IPv6 address"; return false; }
                why = null;
                return true;
            }
            if (s.IndexOf(':') >= 0)
            {
                why = TryParseIPv6(s, out address) ? null : "'" + s + "' is not an IPv6 address (a zone index such as %eth0 is not accepted)";
                return why == null;
            }
            return TryParseIPv4(s, out address, out why);
        }

        /// <summary>
        /// Parses <c>ip[:port]</c>: <c>127.0.0.1</c>, <c>127.0.0.1:25</c>, <c>::1</c>, <c>[::1]:25</c>. A bare IPv6
        /// address (two or more colons, no brackets) never carries a port, and one whose last group
        /// could be read as a port (<c>::1:2525</c>) is refused as ambiguous, with the bracketed form
        /// in the message: read as an address it would be <c>::0.1.37.37</c> on the default port.
        /// A <paramref name="defaultPort"/> below 0 makes the port required.
        /// </summary>
        /// <param name="text">The text to parse; surrounding white space is ignored.</param>
        /// <param name="defaultPort">The port when none is written.</param>
        /// <param name="allowPortZero">Port 0 means "pick a free port" (listeners only).</param>
        /// <param name="allowUnspecified">0.0.0.0 and :: mean "every address" (listeners only).</param>
        /// <param name="endPoint">The address and port; null when parsing fails.</param>
        /// <param name="why">What is wrong with <paramref name="text"/>; null on success.</param>
        public static bool TryParseEndPoint(string text, int defaultPort, bool allowPortZero, bool allowUnspecified,
                                            out IPEndPoint endPoint, out string why)
        {
            endPoint = null;
            var s = text?.Trim() ?? "";
            if (s.Length == 0) { why = "the address is empty"; return false; }
            string host, port = null;
            if (s[0] == '[')
            {
                int close = s.IndexOf(']');
                if (close < 0) { why = "'[' without a closing ']'"; return false; }
                host = s.Substring(0, close + 1);
                var rest = s.Substring(close + 1);
                if (rest.Length > 0)
                {
                    if (rest[0] != ':') { why = "only ':port' may follow ']'"; return false; }
                    port = rest.Substring(1);
                }
            }
            else
            {
                int colon = s.IndexOf(':');
                if (colon >= 0 && s.IndexOf(':', colon + 1) < 0)
                {
                    host = s.Substring(0, colon);
                    port = s.Substring(colon + 1);
                }
                else
                {
                    host = s;   // no colon, or a bare IPv6 address
                    if (colon >= 0)
                    {
                        if (IsAmbiguousBareIPv6(s, out var bracketed)) { why = "'" + s + "' is ambiguous: an IPv6 address with a port is written in brackets, " + bracketed; return false; }
                        if (defaultPort < 0) { why = "an IPv6 address with a port is written in brackets, e.g. [" + s + "]:25"; return false; }
                    }
                }
            }
            if (!TryParseAddress(host, out var address, out why))
            {
                if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
                    why = "host names are not accepted; for this machine alone write 127.0.0.1" + (port != null ? ":" + port : "") + " or [::1]" + (port != null ? ":" + port : "");
                return false;
            }
            if (!allowUnspecified && (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)))
            {
                why = "the unspecified address " + address + " names no host";
                return false;
            }
            if (port == null && defaultPort < 0)
            {
                why = "the port is missing; write it after ':', e.g. " + Bracketed(address) + ":25 for the SMTP port or " + Bracketed(address) + ":2525";
                return false;
            }
            int number = defaultPort;
            if (port != null)
            {
                if (port.Length == 0) { why = "the port after ':' is missing"; return false; }
                if (port.Length > 5 || !AllDigits(port)) { why = "the port '" + port + "' is not a number from 1 to 65535"; return false; }
                number = int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
                if (number > 65535 || (number == 0 && !allowPortZero))
                {
                    why = "the port " + port + " is not from " + (allowPortZero ? "0" : "1") + " to 65535";
                    return false;
                }
            }
            endPoint = new IPEndPoint(address, number);
            why = null;
            return true;
        }

        /// <summary>
        /// True when <paramref name="text"/>, a bare IPv6 address, also reads as an IPv6 address
        /// followed by <c>:port</c> (<c>::1:2525</c>, <c>fe80::1:25</c>); <paramref name="bracketed"/>
        /// then shows both readings in brackets.
        /// </summary>
        public static bool IsAmbiguousBareIPv6(string text, out string bracketed)
        {
            bracketed = null;
            var s = text?.Trim() ?? "";
            int last = s.LastIndexOf(':');
            if (s.Length == 0 || s[0] == '[' || last <= 0 || s.IndexOf(':') == last) return false;
            var port = s.Substring(last + 1);
            if (port.Length == 0 || port.Length > 5 || !AllDigits(port)) return false;
            if (int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture) > 65535) return false;
            var host = s.Substring(0, last);
            if (!TryParseIPv6(host, out _)) return false;
            bracketed = "[" + host + "]:" + port + " for port " + port + " on " + host + ", or [" + s + "]:port for that whole address";
            return true;
        }

        static string Bracketed(IPAddress address) =>
            address.AddressFamily == AddressFamily.InterNetworkV6 ? "[" + address + "]" : address.ToString();

        static bool TryParseIPv6(string text, out IPAddress address)
        {
            address = null;
            if (text.Length == 0 || text.IndexOf(':') < 0 || text.IndexOf('%') >= 0) return false;
            if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6) return false;
            address = parsed;
            return true;
        }

        static bool TryParseIPv4(string text, out IPAddress address, out string why)
        {
            address = null;
            foreach (var c in text)
                if ((c < '0' || c > '9') && c != '.')
                {
                    why = "'" + text + "' is not an IP address (host names are not accepted)";
                    return false;
                }
            var parts = text.Split('.');
            if (parts.Length != 4)
            {
                why = "'" + text + "' is not an IPv4 address: it needs four decimal numbers separated by dots";
                return false;
            }
            var bytes = new byte[4];
            for (int i = 0; i < 4; i++)
            {
                var p = parts[i];
                if (p.Length == 0 || p.Length > 3)
                {
                    why = "'" + text + "' is not an IPv4 address: each of the four parts is a number from 0 to 255";
                    return false;
                }
                if (p.Length > 1 && p[0] == '0')
                {
                    why = "'" + text + "' is not an IPv4 address: '" + p + "' has a leading zero (octal is ambiguous)";
                    return false;
                }
                int value = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
                if (value > 255)
                {
                    why = "'" + text + "' is not an IPv4 address: " + p + " is greater than 255";
                    return false;
                }
                bytes[i] = (byte)value;
            }
            address = new IPAddress(bytes);
            why = null;
            return true;
        }

        static bool AllDigits(string s)
        {
            foreach (var c in s)
                if (c < '0' || c > '9') return false;
            return true;
        }
    }
}
