using System;
using System.Collections.Generic;
using System.Net;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Spf;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spf
{
    /// <summary>Macro expansion (RFC 7208 §7.4's examples) and record syntax, without a DNS server: the
    /// expansion is read off the question an <c>exists:</c> asks.</summary>
    public class SpfMacroTests
    {
        /// <summary>TXT answers from a table; every other question is NXDOMAIN and recorded.</summary>
        sealed class TableResolver : IDnsResolver
        {
            readonly Dictionary<string, string> _txt = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            public List<string> Asked { get; } = new List<string>();
            readonly HashSet<string> _failing = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            public TableResolver Txt(string name, string value) { _txt[name] = value; return this; }
            public TableResolver Failing(string name) { _failing.Add(name); return this; }

            public Task<DnsAnswer> QueryAsync(string name, DnsRecordType type, CancellationToken cancellationToken = default)
            {
                lock (Asked) Asked.Add(type + " " + name);
                if (_failing.Contains(name)) return Task.FromResult(DnsAnswer.Failed("SERVFAIL"));
                return Task.FromResult(type == DnsRecordType.TXT && _txt.TryGetValue(name, out var v) ? DnsAnswer.Ok(new[] { v }) : DnsAnswer.NameError);
            }
        }

        static async Task<string> ExpandAsync(string macro, string client = "192.0.2.3", string sender = "strong-bad@email.example.com")
        {
            var dns = new TableResolver().Txt("email.example.com", "v=spf1 exists:" + macro + " -all");
            var result = await new SpfEvaluator(dns).CheckMailFromAsync(IPAddress.Parse(client), "mx.example.org", sender);
            Assert.Equal(SpfResult.Fail, result.Result);
            return dns.Asked[1].Substring("A ".Length);
        }

        [Theory]
        [InlineData("%{s}.x.test", "strong-bad@email.example.com.x.test")]
        [InlineData("%{o}", "email.example.com")]
        [InlineData("%{d}", "email.example.com")]
        [InlineData("%{d4}", "email.example.com")]
        [InlineData("%{d3}", "email.example.com")]
        [InlineData("%{d2}", "example.com")]
        [InlineData("%{d1}.x.test", "com.x.test")]
        [InlineData("%{dr}", "com.example.email")]
        [InlineData("%{d2r}", "example.email")]
        [InlineData("%{l}.x.test", "strong-bad.x.test")]
        [InlineData("%{l-}.x.test", "strong.bad.x.test")]
        [InlineData("%{lr}.x.test", "strong-bad.x.test")]
        [InlineData("%{lr-}.x.test", "bad.strong.x.test")]
        [InlineData("%{l1r-}.x.test", "strong.x.test")]
        [InlineData("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com")]
        [InlineData("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com")]
        [InlineData("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com")]
        [InlineData("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com")]
        [InlineData("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net")]
        [InlineData("%{h}", "mx.example.org")]
        [InlineData("a%%b%_c%-d.x.test", "a%b c%20d.x.test")]
        [InlineData("%{L}.x.test", "strong-bad.x.test")]
        public async Task Rfc7208_7_4_example(string macro, string expanded)
        {
            Assert.Equal(expanded, await ExpandAsync(macro));
        }

        [Fact]
        public async Task Ipv6_client_expands_to_nibbles()
        {
            Assert.Equal("1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com",
                await ExpandAsync("%{ir}.%{v}._spf.%{d2}", client: "2001:db8::cb01"));
        }

        [Fact]
        public async Task Uppercase_macro_url_escapes_the_value()
        {
            Assert.Equal("a%2Bb%40c.x.test", await ExpandAsync("%{L}.x.test", sender: "a+b@c@email.example.com"));
        }

        [Fact]
        public async Task An_expansion_over_253_characters_loses_labels_on_the_left()
        {
            var name = await ExpandAsync("%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.x.test");
            Assert.True(name.Length <= 253, name);
            Assert.EndsWith(".email.example.com.x.test", name);
        }

        [Theory]
        [InlineData("v=spf1 -all")]
        [InlineData("v=spf1")]
        [InlineData("v=spf1 a/24//64 mx:%{d2} ptr:example.com ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.x.test include:_spf.example.com ~all")]
        [InlineData("v=spf1 redirect=_spf.example.com exp=explain.%{d}")]
        [InlineData("v=spf1 moo.cow-far_out=man:dog/cat -all")]
        [InlineData("V=SPF1  ?all  ")]
        public void Parses(string record)
        {
            Assert.True(SpfRecordParser.IsSpf1(record));
            Assert.NotNull(SpfRecordParser.Parse(record, out var error));
            Assert.Null(error);
        }

        [Theory]
        [InlineData("v=spf1 -all.")]
        [InlineData("v=spf1 a:museum")]
        [InlineData("v=spf1 a/33")]
        [InlineData("v=spf1 a//129")]
        [InlineData("v=spf1 ip4:1.2.3.4/032")]
        [InlineData("v=spf1 ip4:01.2.3.4")]
        [InlineData("v=spf1 ip6:1.2.3.4")]
        [InlineData("v=spf1 ptr/24")]
        [InlineData("v=spf1 include")]
        [InlineData("v=spf1 exists:%{x}.example.com")]
        [InlineData("v=spf1 exists:%{d0}.example.com")]
        [InlineData("v=spf1 exists:%{c}.example.com")]
        [InlineData("v=spf1 redirect=a.test redirect=b.test")]
        [InlineData("v=spf1 exp=a.test exp=b.test")]
        [InlineData("v=spf1 foo=%q")]
        [InlineData("v=spf1 1up=foo")]
        [InlineData("v=spf1 a:b.test\tptr")]
        public void Refuses(string record)
        {
            Assert.Null(SpfRecordParser.Parse(record, out var error));
            Assert.NotNull(error);
        }

        [Theory]
        [InlineData("v=spf10")]
        [InlineData("v=spf1-all")]
        [InlineData("spf2.0/pra -all")]
        public void Is_not_an_spf1_record(string txt) => Assert.False(SpfRecordParser.IsSpf1(txt));

        [Fact]
        public async Task The_null_sender_is_postmaster_at_the_helo_name()
        {
            var dns = new TableResolver().Txt("mx.example.org", "v=spf1 exists:%{l}.%{o}.x.test -all");
            var result = await new SpfEvaluator(dns).CheckMailFromAsync(IPAddress.Parse("192.0.2.3"), "mx.example.org", "<>");
            Assert.Equal(SpfIdentity.MailFrom, result.Identity);
            Assert.Equal("mx.example.org", result.Domain);
            Assert.Equal("postmaster@mx.example.org", result.Sender);
            Assert.Contains("A postmaster.mx.example.org.x.test", dns.Asked);
        }

        [Fact]
        public async Task A_failed_record_lookup_is_temperror_and_a_missing_domain_none()
        {
            var dns = new TableResolver().Failing("broken.example.org")
                .Txt("inc.example.org", "v=spf1 include:broken.example.org -all");
            var evaluator = new SpfEvaluator(dns);
            var none = await evaluator.CheckHeloAsync(IPAddress.Parse("192.0.2.3"), "nosuch.example.org");
            Assert.Equal(SpfResult.None, none.Result);
            Assert.Equal(SpfIdentity.Helo, none.Identity);
            var temp = await evaluator.CheckMailFromAsync(IPAddress.Parse("192.0.2.3"), "mx.example.org", "a@inc.example.org");
            Assert.Equal(SpfResult.TempError, temp.Result);
            Assert.Contains("broken.example.org", temp.Problem);
        }
    }
}
