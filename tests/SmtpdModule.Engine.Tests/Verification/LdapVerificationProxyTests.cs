using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>A live proxy whose recipients are verified against a real directory (slapd on loopback,
    /// alice by proxyAddresses, bob by mail); swaks is the client. A user the directory does not hold
    /// is refused at RCPT, a repeated question is answered from the state store without a search, and
    /// a directory that is gone defers (or, with fail mode Accept, accepts) what the store does not know.</summary>
    public class LdapVerificationProxyTests
    {
        const string Rules = "allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n";

        static TestProxy Start(TestLdapServer ldap, VerificationFailMode mode = VerificationFailMode.TempFail) =>
            TestProxy.Start(Rules, o =>
            {
                var source = new LdapSource(ldap.Options());
                o.RecipientVerification.Sources.Add(new VerificationSource(source, source.Options.PositiveTtl, source.Options.NegativeTtl));
                o.RecipientVerification.FailMode = mode;
            });

        static Task<ProgramRun> Send(TestProxy proxy, string to) =>
            ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[] { "--from", "sender@elsewhere.test", "--to", to, "--data", "Subject: t\\n\\nbody" });

        [LdapFact]
        public async Task A_user_the_directory_knows_is_accepted_and_one_it_does_not_is_refused_at_RCPT()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var proxy = Start(ldap);

            var accepted = await Send(proxy, "alice@example.test");
            Assert.True(accepted.ExitCode == 0, accepted + "\n" + proxy.Log);
            Assert.Contains("<-  250", accepted.Stdout);
            var refused = await Send(proxy, "carol@example.test");
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("<** 550 5.1.1 Recipient address rejected: user unknown", refused.Stdout);

            var spooled = Assert.Single(proxy.Spooled());
            Assert.Equal("<alice@example.test>", Assert.Single(spooled.Envelope.Recipients).Address);
            Assert.Contains("unknown user: ldap: Unknown", proxy.Log);
        }

        [LdapFact]
        public async Task A_repeated_question_is_answered_from_the_store_without_a_search()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var proxy = Start(ldap);
            Assert.Equal(0, (await Send(proxy, "al@example.test")).ExitCode);
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);

            Assert.Equal(0, (await Send(proxy, "al@example.test")).ExitCode);
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);

            await TestWait.UntilAsync(() => ldap.SearchesFor("carol@example.test") >= 1 && ldap.SearchesFor("al@example.test") >= 1, ldap.Log);
            Assert.Equal(1, ldap.SearchesFor("smtp:carol@example.test"));
            Assert.Equal(1, ldap.SearchesFor("smtp:al@example.test"));
            Assert.Contains("[cached]", proxy.Log);
            Assert.Equal(2, proxy.Spooled().Count);
        }

        [LdapFact]
        public async Task A_directory_that_is_gone_defers_what_the_store_does_not_know()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var proxy = Start(ldap);
            Assert.Equal(0, (await Send(proxy, "alice@example.test")).ExitCode);
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);
            ldap.Stop();

            var deferred = await Send(proxy, "bob@example.test");
            Assert.Contains("<** 450 4.4.3 Recipient verification unavailable", deferred.Stdout);
            Assert.Equal(0, (await Send(proxy, "alice@example.test")).ExitCode);             // known, from the store
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);  // unknown, from the store
            Assert.Equal(new[] { "<alice@example.test>", "<alice@example.test>" },
                         proxy.Spooled().Select(m => Assert.Single(m.Envelope.Recipients).Address).ToArray());
        }

        [LdapFact]
        public async Task With_fail_mode_Accept_a_directory_that_is_gone_costs_no_mail()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var proxy = Start(ldap, VerificationFailMode.Accept);
            ldap.Stop();
            var run = await Send(proxy, "bob@example.test");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("unverified (fail mode Accept)", proxy.Log);
            Assert.Single(proxy.Spooled());
        }
    }
}
