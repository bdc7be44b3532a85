namespace SmtpdModule.Engine.Forwarding
{
    /// <summary>Parses a smart host as admins write it: <c>mail.example.com</c>,
    /// <c>mail.example.com:587</c>, <c>192.0.2.1:25</c>, <c>[2001:db8::1]:25</c> or a bare IPv6 address.</summary>
    public static class SmartHost
    {
        /// <returns>False with <paramref name="reason"/> when <paramref name="text"/> is not a host
        /// with an optional port; <paramref name="port"/> is 0 when none was given.</returns>
        public static bool TryParse(string text, out string host, out int port, out string reason) =>
            Net.HostPortText.TryParse(text, out host, out port, out reason);
    }
}
