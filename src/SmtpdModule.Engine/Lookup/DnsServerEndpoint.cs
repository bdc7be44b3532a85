using System;
using System.Net;
using SmtpdModule.Engine.Net;

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
            if (text == null || text.Trim().Length == 0)
            {
                endPoint = null;
                error = "The DNS server address is empty: " + Expected + ".";
                return false;
            }
            if (IPText.TryParseEndPoint(text, DefaultPort, allowPortZero: false, allowUnspecified: false, out endPoint, out var why))
            {
                error = null;
                return true;
            }
            error = "'" + text + "' is not a DNS server address: " + why + "; " + Expected + ".";
            return false;
        }

        /// <summary>Parses <paramref name="text"/> as <see cref="TryParse"/> does.</summary>
        /// <exception cref="ArgumentException">The text is not a DNS server address; the message says why.</exception>
        public static IPEndPoint Parse(string text)
        {
            if (!TryParse(text, out var endPoint, out var error))
                throw new ArgumentException(error, nameof(text));
            return endPoint;
        }
    }
}
