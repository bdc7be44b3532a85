using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    public class LdapServerAddressTests
    {
        [Theory]
        [InlineData("dc1.example.org", false, "dc1.example.org", 0, LdapSecurity.None, 389)]
        [InlineData("dc1.example.org:3268", false, "dc1.example.org", 3268, LdapSecurity.None, 3268)]
        [InlineData("ldap://dc1.example.org", false, "dc1.example.org", 0, LdapSecurity.None, 389)]
        [InlineData("LDAP://dc1.example.org:389/", true, "dc1.example.org", 389, LdapSecurity.StartTls, 389)]
        [InlineData("ldaps://dc1.example.org", false, "dc1.example.org", 0, LdapSecurity.Ldaps, 636)]
        [InlineData("ldaps://dc1.example.org:3269", false, "dc1.example.org", 3269, LdapSecurity.Ldaps, 3269)]
        [InlineData("ldap://[2001:db8::1]:389", false, "2001:db8::1", 389, LdapSecurity.None, 389)]
        [InlineData("192.0.2.1", true, "192.0.2.1", 0, LdapSecurity.StartTls, 389)]
        public void The_admin_forms_set_server_port_and_security(string text, bool startTls, string server, int port, LdapSecurity security, int effective)
        {
            var options = new LdapSourceOptions();
            Assert.True(LdapServerAddress.TryApply(text, startTls, options, out var why), why);
            Assert.Equal(server, options.Server);
            Assert.Equal(port, options.Port);
            Assert.Equal(security, options.Security);
            Assert.Equal(effective, options.EffectivePort);
        }

        [Theory]
        [InlineData("", false, "empty")]
        [InlineData("http://dc1.example.org", false, "not ldap:// or ldaps://")]
        [InlineData("ldap://dc1.example.org/dc=example,dc=org", false, "search base")]
        [InlineData("ldap://dc1.example.org:99999", false, "port")]
        [InlineData("ldap://dc 1.example.org", false, "not a host name")]
        [InlineData("ldaps://dc1.example.org", true, "StartTLS is for ldap://")]
        public void Other_forms_are_refused_with_the_reason(string text, bool startTls, string reason)
        {
            var options = new LdapSourceOptions();
            Assert.False(LdapServerAddress.TryApply(text, startTls, options, out var why));
            Assert.Contains(reason, why);
            Assert.Null(options.Server);
        }
    }
}
