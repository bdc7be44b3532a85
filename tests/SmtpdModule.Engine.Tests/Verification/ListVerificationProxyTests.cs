using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>A live proxy with a recipient list, driven by swaks: a user the list does not know is
    /// refused at RCPT with 550 5.1.1, nothing for them reaches the spool, and an edit of the list
    /// takes effect without a restart.</summary>
    public sealed class ListVerificationProxyTests : IDisposable
    {
        const string Rules = "allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n";
        readonly string _dir = Directory.CreateTempSubdirectory("smtpd-rcptlist-").FullName;
        string ListPath => Path.Combine(_dir, "recipients");

        public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

        TestProxy Start()
        {
            File.WriteAllText(ListPath, "# who has a mailbox downstream\nalice@example.test\nbob@example.test\n");
            // Re-checked at every lookup, so an edit is seen by the next RCPT without waiting.
            var list = RecipientListSource.Open(ListPath, checkInterval: TimeSpan.Zero);
            return TestProxy.Start(Rules, o => o.RecipientVerification.Sources.Add(new VerificationSource(list)));
        }

        static Task<ProgramRun> Send(TestProxy proxy, string to) =>
            ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[] { "--from", "sender@elsewhere.test", "--to", to, "--data", "Subject: t\\n\\nbody" });

        [Fact]
        public async Task A_user_the_list_does_not_know_is_refused_at_RCPT_and_nothing_is_spooled()
        {
            using var proxy = Start();
            var run = await Send(proxy, "carol@example.test");
            Assert.NotEqual(0, run.ExitCode);
            Assert.Contains("<** 550 5.1.1 Recipient address rejected: user unknown", run.Stdout);
            Assert.Empty(proxy.Spooled());
            Assert.Contains("unknown user: list: Unknown (no entry for this address)", proxy.Log);
        }

        [Fact]
        public async Task Of_two_recipients_only_the_known_one_is_accepted()
        {
            using var proxy = Start();
            var run = await Send(proxy, "alice@example.test,carol@example.test");
            Assert.True(run.ExitCode == 0, run.ToString());
            var spooled = Assert.Single(proxy.Spooled());
            Assert.Equal(new[] { "<alice@example.test>" }, spooled.Envelope.Recipients.Select(r => r.Address).ToArray());
        }

        [Fact]
        public async Task An_edited_list_is_followed_without_a_restart()
        {
            using var proxy = Start();
            Assert.NotEqual(0, (await Send(proxy, "carol@example.test")).ExitCode);
            File.WriteAllText(ListPath, "alice@example.test\nbob@example.test\ncarol@example.test\n# grown by one\n");
            var run = await Send(proxy, "carol@example.test");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Single(proxy.Spooled());
        }

        [Fact]
        public async Task Mail_the_rules_refuse_is_refused_by_the_rules_not_the_list()
        {
            using var proxy = Start();
            var run = await Send(proxy, "alice@elsewhere.test");
            Assert.Contains("<** 550", run.Stdout);
            Assert.DoesNotContain("5.1.1", run.Stdout);
            Assert.DoesNotContain("verify", proxy.Log);
        }
    }
}
