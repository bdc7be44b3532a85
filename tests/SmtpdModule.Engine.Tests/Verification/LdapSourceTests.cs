using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    static class LdapAssert
    {
        public static void Status(MailboxStatus expected, RecipientAnswer answer) =>
            Assert.True(answer.Status == expected, "expected " + expected + ", got " + answer);
    }

    /// <summary>Checks against a real directory (slapd on loopback) holding alice (proxyAddresses
    /// SMTP:alice@, smtp:al@), bob (mail) and o*reilly (mail, with a '*').</summary>
    public class LdapSourceTests : IClassFixture<TestLdapServer>
    {
        readonly TestLdapServer _ldap;

        public LdapSourceTests(TestLdapServer ldap) { _ldap = ldap; }

        [LdapFact]
        public async Task The_active_directory_filter_finds_primary_and_alias_proxyAddresses_and_mail()
        {
            using var source = new LdapSource(_ldap.Options());
            foreach (var (address, dn) in new[]
            {
                ("alice@example.test", "uid=alice,ou=people,dc=example,dc=test"),   // SMTP:alice@… (primary)
                ("al@example.test", "uid=alice,ou=people,dc=example,dc=test"),      // smtp:al@… (alias)
                ("ALICE@Example.Test", "uid=alice,ou=people,dc=example,dc=test"),   // the directory ignores case
                ("bob@example.test", "uid=bob,ou=people,dc=example,dc=test"),       // mail
            })
            {
                var answer = await source.CheckAsync(address);
                Assert.True(answer.Status == MailboxStatus.Known, address + ": " + answer + "\n" + _ldap.Log);
                Assert.Equal("ldap", answer.Source);
                Assert.Equal("ldap://127.0.0.1:" + _ldap.Port + ": " + dn, answer.Detail);
            }
        }

        [LdapFact]
        public async Task An_address_no_entry_holds_is_unknown()
        {
            using var source = new LdapSource(_ldap.Options());
            var answer = await source.CheckAsync("carol@example.test");
            Assert.Equal(MailboxStatus.Unknown, answer.Status);
            Assert.Contains("no entry matches (|(proxyAddresses=smtp:carol@example.test)(mail=carol@example.test)) under dc=example,dc=test", answer.Detail);
        }

        [LdapFact]
        public async Task Filter_characters_in_an_address_stay_characters_of_the_address()
        {
            using var source = new LdapSource(_ldap.Options());
            // Unescaped, each of these would match alice or bob (a wildcard, or a second filter term).
            foreach (var attack in new[] { "*@example.test", "al*", "*", "x)(mail=bob@example.test", "x)(|(mail=*)", @"\2a@example.test", "al\0@example.test" })
            {
                var answer = await source.CheckAsync(attack);
                Assert.True(answer.Status == MailboxStatus.Unknown, attack + ": " + answer);
            }
            // The '*' of a real address is matched as itself, and only as itself.
            LdapAssert.Status(MailboxStatus.Known, await source.CheckAsync("o*reilly@example.test"));
            LdapAssert.Status(MailboxStatus.Unknown, await source.CheckAsync("o*@example.test"));

            // What slapd received: one term per placeholder, the characters escaped (its log lags a little).
            await TestWait.UntilAsync(() => _ldap.Filters().Contains(@"(|(proxyAddresses=smtp:x\29\28mail=bob@example.test)(mail=x\29\28mail=bob@example.test))"), _ldap.Log);
        }

        [LdapFact]
        public async Task A_wrong_bind_password_is_unavailable_with_the_reason_never_unknown()
        {
            var options = _ldap.Options();
            options.Credential = new NetworkCredential(TestLdapServer.BindDn, "wrong");
            using var source = new LdapSource(options);
            var answer = await source.CheckAsync("alice@example.test");
            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("bind as " + TestLdapServer.BindDn, answer.Detail);
            Assert.Contains("LDAP 49", answer.Detail);   // invalidCredentials
        }

        [LdapFact]
        public async Task An_anonymous_bind_searches_too()
        {
            var options = _ldap.Options();
            options.Credential = null;
            using var source = new LdapSource(options);
            LdapAssert.Status(MailboxStatus.Known, await source.CheckAsync("bob@example.test"));
        }

        [LdapFact]
        public async Task A_search_base_that_does_not_exist_is_unavailable_not_unknown()
        {
            var options = _ldap.Options();
            options.SearchBase = "dc=typo,dc=test";
            using var source = new LdapSource(options);
            var answer = await source.CheckAsync("alice@example.test");
            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.True(answer.Detail.Contains("NoSuchObject (32)"), answer.ToString());
        }

        [LdapFact]
        public async Task StartTls_and_Ldaps_work_with_a_trusted_certificate()
        {
            foreach (var security in new[] { LdapSecurity.StartTls, LdapSecurity.Ldaps })
            {
                using var source = new LdapSource(_ldap.Options(security));
                var answer = await source.CheckAsync("alice@example.test");
                Assert.True(answer.Status == MailboxStatus.Known, security + ": " + answer + "\n" + _ldap.Log);
            }
            Assert.Contains("ldaps://127.0.0.1:" + _ldap.LdapsPort, new LdapSource(_ldap.Options(LdapSecurity.Ldaps)).Options.Target);
            // slapd saw both: a StartTLS extended operation, and a TLS handshake on the LDAPS port.
            await TestWait.UntilAsync(() => _ldap.Log.Contains("EXT oid=1.3.6.1.4.1.1466.20037") && _ldap.Log.Contains("(IP=127.0.0.1:" + _ldap.LdapsPort + ")"), _ldap.Log);
        }
    }

    /// <summary>How connections are kept and shared (each test its own slapd, whose log counts binds).</summary>
    public class LdapSourceConnectionTests
    {
        static int Binds(TestLdapServer ldap) => ldap.Log.Split('\n').Count(l => l.Contains("BIND dn=\"" + TestLdapServer.BindDn + "\" mech=SIMPLE"));

        [LdapFact]
        public async Task One_bound_connection_serves_check_after_check()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var source = new LdapSource(ldap.Options());
            for (var i = 0; i < 5; i++)
                LdapAssert.Status(MailboxStatus.Known, await source.CheckAsync("bob@example.test"));
            await TestWait.UntilAsync(() => ldap.SearchesFor("bob@example.test") == 5, ldap.Log);
            Assert.Equal(1, Binds(ldap));
            Assert.Equal(5, source.Searches);
        }

        [LdapFact]
        public async Task Concurrent_checks_use_at_most_MaxConcurrency_connections()
        {
            using var ldap = await TestLdapServer.StartAsync();
            var options = ldap.Options();
            options.MaxConcurrency = 2;
            using var source = new LdapSource(options);
            var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => source.CheckAsync(i % 2 == 0 ? "alice@example.test" : "user" + i + "@example.test")));
            Assert.Equal(10, answers.Count(a => a.Status == MailboxStatus.Known));
            Assert.Equal(10, answers.Count(a => a.Status == MailboxStatus.Unknown));
            await TestWait.UntilAsync(() => ldap.SearchesFor("@example.test") == 20, ldap.Log);
            Assert.InRange(Binds(ldap), 1, 2);
        }

        [LdapFact]
        public async Task A_burst_of_checks_on_one_source_is_answered_by_its_workers_within_the_timeout()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var source = new LdapSource(ldap.Options());   // 2 s timeout, 4 workers
            var answers = await Task.WhenAll(Enumerable.Range(0, 400).Select(i => source.CheckAsync(i % 2 == 0 ? "bob@example.test" : "nobody" + i + "@example.test")));
            Assert.All(answers, a => Assert.True(a.Status != MailboxStatus.Unavailable, a.ToString()));
            Assert.InRange(source.Workers, 1, 4);
        }

        [LdapFact]
        public async Task Many_sources_connecting_at_once_with_and_without_TLS_all_answer()
        {
            // Eight callers each making a new source (a new connection, handshake and bind) per check:
            // when the library's blocking calls ran on the thread pool, a two-core machine starved and
            // checks waited past their timeout.
            using var ldap = await TestLdapServer.StartAsync();
            var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
            await Task.WhenAll(Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
            {
                for (var i = 0; i < 25; i++)
                {
                    var security = (LdapSecurity)((caller + i) % 3);
                    using var source = new LdapSource(ldap.Options(security));
                    var answer = await source.CheckAsync("bob@example.test");
                    if (answer.Status != MailboxStatus.Known) failures.Add(security + ": " + answer);
                }
            })));
            Assert.Empty(failures);
        }

        [LdapFact]
        public async Task A_directory_that_restarts_is_used_again_on_a_new_connection()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var source = new LdapSource(ldap.Options());
            LdapAssert.Status(MailboxStatus.Known, await source.CheckAsync("alice@example.test"));
            await ldap.RestartAsync();   // the kept connection is now dead
            var answer = await source.CheckAsync("alice@example.test");
            Assert.True(answer.Status == MailboxStatus.Known, answer + "\n" + ldap.Log);
        }
    }

    /// <summary>Checks against directories that go away or cannot be trusted (each test its own slapd).</summary>
    public class LdapSourceFaultTests
    {
        [LdapFact]
        public async Task A_directory_that_stops_is_unavailable()
        {
            using var ldap = await TestLdapServer.StartAsync();
            using var source = new LdapSource(ldap.Options());
            LdapAssert.Status(MailboxStatus.Known, await source.CheckAsync("alice@example.test"));

            ldap.Stop();
            var answer = await source.CheckAsync("alice@example.test");
            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("127.0.0.1:" + ldap.Port, answer.Detail);
        }

        [LdapFact]
        public async Task Nothing_listening_is_unavailable_within_the_timeout()
        {
            var port = DownstreamTools.FreePort();
            using var source = new LdapSource(new LdapSourceOptions { Server = "127.0.0.1", Port = port, SearchBase = TestLdapServer.SearchBase, Timeout = TimeSpan.FromSeconds(2) });
            var watch = System.Diagnostics.Stopwatch.StartNew();
            var answer = await source.CheckAsync("alice@example.test");
            Assert.Equal(MailboxStatus.Unavailable, answer.Status);
            Assert.Contains("ldap://127.0.0.1:" + port + " failed", answer.Detail);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(4), watch.Elapsed.ToString());
        }

        [LdapFact]
        public async Task A_listener_that_never_answers_is_unavailable_at_the_timeout()
        {
            var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
            silent.Start();   // accepts connections (the kernel's backlog) and never says a word
            try
            {
                var port = ((IPEndPoint)silent.LocalEndpoint).Port;
                using var source = new LdapSource(new LdapSourceOptions
                {
                    Server = "127.0.0.1", Port = port, SearchBase = TestLdapServer.SearchBase,
                    Credential = new NetworkCredential(TestLdapServer.BindDn, TestLdapServer.BindPassword), Timeout = TimeSpan.FromSeconds(1),
                });
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var answer = await source.CheckAsync("alice@example.test");
                Assert.Equal(MailboxStatus.Unavailable, answer.Status);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), watch.Elapsed + " " + answer);
            }
            finally { silent.Stop(); }
        }

        [LdapFact]
        public async Task A_certificate_from_a_CA_the_process_does_not_trust_is_unavailable()
        {
            var otherCa = Directory.CreateTempSubdirectory("smtpd-test-ldap-untrusted-").FullName;
            try
            {
                using var ldap = await TestLdapServer.StartAsync(otherCa);
                foreach (var security in new[] { LdapSecurity.StartTls, LdapSecurity.Ldaps })
                {
                    using var source = new LdapSource(ldap.Options(security));
                    var answer = await source.CheckAsync("alice@example.test");
                    Assert.True(answer.Status == MailboxStatus.Unavailable, security + ": " + answer);
                }
                Assert.DoesNotContain("BIND dn=\"" + TestLdapServer.BindDn, ldap.Log);   // the password never went out
            }
            finally { Directory.Delete(otherCa, true); }
        }
    }
}
