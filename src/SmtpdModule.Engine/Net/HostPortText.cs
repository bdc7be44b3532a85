using System.Globalization;
using System.Net;

namespace SmtpdModule.Engine.Net
{
    /// <summary>A host with an optional port as admins write it: <c>mail.example.com</c>,
    /// <c>mail.example.com:587</c>, <c>192.0.2.1:25</c>, <c>[2001:db8::1]:25</c> or a bare IPv6
    /// address. The smart host, the callahead host and the LDAP server are written this way.</summary>
    public static class HostPortText
    {
        /// <returns>False with <paramref name="reason"/> when <paramref name="text"/> is not a host
        /// with an optional port; <paramref name="port"/> is 0 when none was given.</returns>
        public static bool TryParse(string text, out string host, out int port, out string reason)
        {
            host = null;
            port = 0;
            reason = null;
            if (string.IsNullOrWhiteSpace(text)) { reason = "it is empty"; return false; }
            var hostPart = text;
            string portPart = null;
            if (text[0] == '[')
            {
                var close = text.IndexOf(']');
                if (close < 0) { reason = "the '[' has no ']'"; return false; }
                hostPart = text.Substring(1, close - 1);
                var rest = text.Substring(close + 1);
                if (rest.Length > 0)
                {
                    if (rest[0] != ':') { reason = "only ':port' may follow ']'"; return false; }
                    portPart = rest.Substring(1);
                }
                if (!IPAddress.TryParse(hostPart, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
                { reason = "brackets hold an IPv6 address"; return false; }
            }
            else if (text.IndexOf(':') != text.LastIndexOf(':'))
            {
                if (IPText.IsAmbiguousBareIPv6(text, out var bracketed)) { reason = "'" + text + "' is ambiguous: an IPv6 address with a port is written in brackets, " + bracketed; return false; }
                if (!IPAddress.TryParse(text, out _)) { reason = "an IPv6 address with a port is written [address]:port"; return false; }
            }
            else
            {
                var colon = text.IndexOf(':');
                if (colon >= 0)
                {
                    hostPart = text.Substring(0, colon);
                    portPart = text.Substring(colon + 1);
                }
                if (!IsHostName(hostPart) && !IPAddress.TryParse(hostPart, out _)) { reason = "'" + hostPart + "' is not a host name"; return false; }
            }
            if (portPart != null && (!int.TryParse(portPart, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535))
            {
                reason = "the port must be 1 to 65535";
                return false;
            }
            host = hostPart;
            return true;
        }

        static bool IsHostName(string s)
        {
            if (s.Length == 0 || s.Length > 253) return false;
            foreach (var label in s.TrimEnd('.').Split('.'))
            {
                if (label.Length == 0 || label.Length > 63 || label[0] == '-' || label[label.Length - 1] == '-') return false;
                foreach (var c in label)
                    if (!(char.IsLetterOrDigit(c) && c < 128) && c != '-' && c != '_') return false;
            }
            return true;
        }
    }
}
