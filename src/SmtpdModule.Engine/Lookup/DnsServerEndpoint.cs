using System;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SmtpdModule.Engine.Lookup
{
    /// <summary>
    /// Parses the text a user gives for a DNS server (<c>-DnsServer</c>): <c>ip[:port]</c>.
    /// </summary>
    /// <remarks>
    /// Accepted forms: <c>127.0.0.1</c>, <c>127.0.0.1:5353</c>, <c>::1</c>, <c>[::1]:5353</c>,
    /// <c>2001:db8::1</c>. Without a port the server is asked on port 53. A bare IPv6 address never
    /// carries a port (<c>2001:db8::1:53</c> is an address); brackets are required to give one, as
    /// in URIs (RFC 3986 section 3.2.2).
    /// <para>IPv4 addresses must be four decimal octets. The shorthand that <see cref="IPAddress.TryParse(string, out IPAddress)"/>
    /// also accepts (<c>127.1</c>, <c>0x7f.0.0.1</c>, <c>010.0.0.1</c>, which inet_aton reads as octal) is refused:
    /// a DNS server typed by an administrator should mean one thing. Host names are refused because
    /// resolving the resolver would need a resolver.</para>
    /// </remarks>
    public static class DnsServerEndpoint
    {
        /// <summary>The port a DNS server listens on when the text gives none.</summary>
        public const int DefaultPort = 53;

        const string Expected = "expected ip[:port], e.g. 127.0.0.1, 127.0.0.1:5353, ::1 or [::1]:5353";

        /// <summary>Parses <paramref name="text"/> as <c>ip[:port]</c>.</summary>
        /// <param name="text">The text to parse; surrounding white space is ignored.</param>
        /// <param name="endPoint">The server's address and port; null when parsing fails.</param>
        /// <param name="error">What is wrong with <paramref name="text"/>; null on success.</param>
        /// <returns>True if <paramref name="text"/> is a valid DNS server address.</returns>
        public static bool TryParse(string text, out IPEndPoint endPoint, out string error)
        {
            endPoint = null;
            error = null;

            if (text == null || text.Trim().Length == 0)
            {
                error = "The DNS server address is empty: " + Expected + ".";
                return false;
            }

            var s = text.Trim();
            string host;
            string port = null;

            if (s[0] == '[')
            {
                var close = s.IndexOf(']');
                if (close < 0)
                    return Fail(text, "'[' without a closing ']'", out error);
                host = s.Substring(1, close - 1);
                var rest = s.Substring(close + 1);
                if (rest.Length > 0)
                {
                    if (rest[0] != ':')
                        return Fail(text, "only ':port' may follow ']'", out error);
                    port = rest.Substring(1);
                }
                if (!TryParseIPv6(host, out var v6))
                    return Fail(text, "'" + host + "' between brackets is not an IPv6 address", out error);
                return Finish(text, v6, port, out endPoint, out error);
            }

            var firstColon = s.IndexOf(':');
            if (firstColon >= 0 && s.IndexOf(':', firstColon + 1) >= 0)
            {
                // Two or more colons: a bare IPv6 address, which never carries a port.
                if (!TryParseIPv6(s, out var v6))
                    return Fail(text, "not an IPv6 address (write [address]:port to give a port)", out error);
                return Finish(text, v6, null, out endPoint, out error);
            }

            if (firstColon >= 0)
            {
                host = s.Substring(0, firstColon);
                port = s.Substring(firstColon + 1);
            }
            else
            {
                host = s;
            }

            if (!TryParseIPv4(host, out var v4, out var why))
                return Fail(text, why, out error);
            return Finish(text, v4, port, out endPoint, out error);
        }

        /// <summary>Parses <paramref name="text"/> as <c>ip[:port]</c>.</summary>
        /// <param name="text">The text to parse; surrounding white space is ignored.</param>
        /// <returns>The server's address and port (53 when the text gives none).</returns>
        /// <exception cref="ArgumentException"><paramref name="text"/> is null, empty, a host name, or an
        /// address or port that is not valid; the message says which.</exception>
        public static IPEndPoint Parse(string text)
        {
            if (!TryParse(text, out var endPoint, out var error))
                throw new ArgumentException(error, nameof(text));
            return endPoint;
        }

        static bool Finish(string text, IPAddress address, string port, out IPEndPoint endPoint, out string error)
        {
            endPoint = null;
            error = null;

            if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
                return Fail(text, "the unspecified address cannot be asked", out error);

            var number = DefaultPort;
            if (port != null)
            {
                if (port.Length == 0)
                    return Fail(text, "the port after ':' is missing", out error);
                if (port.Length > 5 || !AllDigits(port))
                    return Fail(text, "the port '" + port + "' is not a number from 1 to 65535", out error);
                number = int.Parse(port, NumberStyles.None, CultureInfo.InvariantCulture);
                if (number < 1 || number > 65535)
                    return Fail(text, "the port " + number.ToString(CultureInfo.InvariantCulture) + " is not from 1 to 65535", out error);
            }

            endPoint = new IPEndPoint(address, number);
            return true;
        }

        static bool TryParseIPv6(string text, out IPAddress address)
        {
            address = null;
            if (text.Length == 0 || text.IndexOf(':') < 0)
                return false;
            if (!IPAddress.TryParse(text, out var parsed) || parsed.AddressFamily != AddressFamily.InterNetworkV6)
                return false;
            address = parsed;
            return true;
        }

        static bool TryParseIPv4(string text, out IPAddress address, out string why)
        {
            address = null;
            why = null;

            var parts = text.Split('.');
            var looksNumeric = text.Length > 0 && AllDigitsOrDots(text);
            if (!looksNumeric)
            {
                why = "'" + text + "' is not an IP address (host names are not accepted)";
                return false;
            }
            if (parts.Length != 4)
            {
                why = "'" + text + "' is not an IPv4 address: it needs four decimal numbers separated by dots";
                return false;
            }

            var bytes = new byte[4];
            for (var i = 0; i < 4; i++)
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
                var value = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
                if (value > 255)
                {
                    why = "'" + text + "' is not an IPv4 address: " + p + " is greater than 255";
                    return false;
                }
                bytes[i] = (byte)value;
            }

            address = new IPAddress(bytes);
            return true;
        }

        static bool AllDigits(string s)
        {
            foreach (var c in s)
                if (c < '0' || c > '9')
                    return false;
            return true;
        }

        static bool AllDigitsOrDots(string s)
        {
            foreach (var c in s)
                if ((c < '0' || c > '9') && c != '.')
                    return false;
            return true;
        }

        static bool Fail(string text, string why, out string error)
        {
            error = "'" + text + "' is not a DNS server address: " + why + "; " + Expected + ".";
            return false;
        }
    }
}
