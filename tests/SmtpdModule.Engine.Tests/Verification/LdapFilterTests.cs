using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>RFC 4515 escaping and the template checks, without a directory.</summary>
    public class LdapFilterTests
    {
        [Theory]
        [InlineData("alice@example.test", "alice@example.test")]
        [InlineData("*@example.test", @"\2a@example.test")]
        [InlineData("x)(mail=bob@example.test", @"x\29\28mail=bob@example.test")]
        [InlineData(@"a\2a@example.test", @"a\5c2a@example.test")]
        [InlineData("al\0@example.test", @"al\00@example.test")]
        [InlineData("jürgen@bücher.example", "jürgen@bücher.example")]
        public void Escape_encodes_the_five_characters_RFC_4515_names(string value, string escaped) =>
            Assert.Equal(escaped, LdapFilter.Escape(value));

        [Fact]
        public void Build_puts_the_escaped_address_at_every_placeholder() =>
            Assert.Equal(@"(|(proxyAddresses=smtp:\2a@x.test)(mail=\2a@x.test))", LdapFilter.Build(LdapFilter.ActiveDirectory, "*@x.test"));

        [Theory]
        [InlineData("(mail={0})")]
        [InlineData(LdapFilter.ActiveDirectory)]
        [InlineData(@"(&(objectClass=user)(mail={0})(!(cn=a\29b)))")]
        public void A_well_formed_template_is_accepted(string template) =>
            Assert.True(LdapFilter.TryValidateTemplate(template, out var error), error);

        [Theory]
        [InlineData("", "empty")]
        [InlineData("(mail=alice@example.test)", "no {0}")]
        [InlineData("mail={0}", "parenthesized")]
        [InlineData("(mail={0}))(", "parenthesized")]
        [InlineData("(mail={0})(cn=x)", "after the filter")]
        [InlineData("(|(mail={0})", "balance")]
        [InlineData("(mail={0}))", "after the filter")]
        public void A_broken_template_is_refused_with_the_reason(string template, string reason)
        {
            Assert.False(LdapFilter.TryValidateTemplate(template, out var error));
            Assert.Contains(reason, error);
        }
    }
}
