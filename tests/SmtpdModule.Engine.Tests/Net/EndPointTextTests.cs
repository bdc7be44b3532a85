using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Net;
using Xunit;

namespace SmtpdModule.Engine.Tests.Net
{
    /// <summary>The host:port forms a new user types for -Listen, -DnsServer and -SmartHost (issue 12):
    /// one reading for each, and the ambiguous bare IPv6 form refused with the bracketed one shown.</summary>
    public sealed class EndPointTextTests
    {
        [Theory]
        [InlineData("127.0.0.1:2525", "127.0.0.1", 2525)]
        [InlineData("[::1]:2525", "::1", 2525)]
        [InlineData("0.0.0.0:25", "0.0.0.0", 25)]
        [InlineData("[::]:0", "::", 0)]
        public void Listen_forms_with_a_port_parse(string text, string address, int port)
        {
            Assert.True(IPText.TryParseEndPoint(text, -1, true, true, out var ep, out var why), why);
            Assert.Equal(System.Net.IPAddress.Parse(address), ep.Address);
            Assert.Equal(port, ep.Port);
        }

        [Theory]
        [InlineData("::1:2525", "[::1]:2525")]
        [InlineData("fe80::1:25", "[fe80::1]:25")]
        public void A_bare_IPv6_address_ending_in_a_port_is_refused_and_the_bracketed_form_shown(string text, string shown)
        {
            Assert.False(IPText.TryParseEndPoint(text, -1, true, true, out var ep, out var why));
            Assert.Null(ep);
            Assert.Contains("ambiguous", why);
            Assert.Contains(shown, why);
            // The same text with a default port (a client such as -DnsServer) is just as ambiguous.
            Assert.False(IPText.TryParseEndPoint(text, 53, false, false, out _, out why));
            Assert.Contains(shown, why);
        }

        [Theory]
        [InlineData("127.0.0.1", "127.0.0.1:25")]
        [InlineData("[::1]", "[::1]:25")]
        [InlineData("::1", "[::1]:25")]
        public void A_listen_address_without_a_port_is_refused_and_the_port_form_shown(string text, string shown)
        {
            Assert.False(IPText.TryParseEndPoint(text, -1, true, true, out _, out var why));
            Assert.Contains(shown, why);
        }

        [Fact]
        public void Localhost_is_refused_with_the_loopback_addresses_to_write_instead()
        {
            Assert.False(IPText.TryParseEndPoint("localhost:2525", -1, true, true, out _, out var why));
            Assert.Contains("127.0.0.1:2525", why);
            Assert.Contains("[::1]:2525", why);
        }

        [Theory]
        [InlineData("::1")]
        [InlineData("2001:db8::25")]
        [InlineData("::ffff:192.0.2.1")]
        [InlineData("[::1]:2525")]
        [InlineData("127.0.0.1:25")]
        public void Unambiguous_forms_are_not_called_ambiguous(string text)
        {
            Assert.False(IPText.IsAmbiguousBareIPv6(text, out _));
        }

        [Theory]
        [InlineData("mail.example.test:587", "mail.example.test", 587)]
        [InlineData("127.0.0.1:2525", "127.0.0.1", 2525)]
        [InlineData("[::1]:2525", "::1", 2525)]
        [InlineData("::1", "::1", 0)]
        public void Smart_host_forms_parse(string text, string host, int port)
        {
            Assert.True(SmartHost.TryParse(text, out var h, out var p, out var why), why);
            Assert.Equal(host, h);
            Assert.Equal(port, p);
        }

        [Fact]
        public void A_smart_host_written_as_bare_IPv6_with_a_port_is_refused_and_the_bracketed_form_shown()
        {
            Assert.False(SmartHost.TryParse("::1:2525", out _, out _, out var why));
            Assert.Contains("[::1]:2525", why);
        }
    }
}
