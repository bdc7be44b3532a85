using System.Linq;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    /// <summary>A live proxy whose recipients are verified by callahead to a real downstream (aiosmtpd on
    /// loopback) that knows alice and bob; swaks is the client. The third user is refused at RCPT, a
    /// repeated question is answered from the state store, and a downstream that is gone defers what
    /// the store does not know.</summary>
    public class CallaheadProxyTests
    {
        const string Rules = "allow:ALL:ALL:*@example.test\nnoto:ALL:ALL:ALL\n";

        static TestProxy Start(DownstreamSmtpServer downstream, VerificationFailMode mode = VerificationFailMode.TempFail) =>
            TestProxy.Start(Rules, o =>
            {
                var callahead = new CallaheadSource(CallaheadSourceTests.Options(downstream));
                o.RecipientVerification.Sources.Add(new VerificationSource(callahead, callahead.Options.PositiveTtl, callahead.Options.NegativeTtl));
                o.RecipientVerification.FailMode = mode;
            });

        static Task<ProgramRun> Send(TestProxy proxy, string to) =>
            ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[] { "--from", "sender@elsewhere.test", "--to", to, "--data", "Subject: t\\n\\nbody" });

        static int RcptsFor(DownstreamSmtpServer server, string user) =>
            server.Of("command").Count(e => CallaheadSourceTests.Verb(e) == "RCPT" && e.ToString().Contains(user));

        [DownstreamFact]
        public async Task The_third_user_is_refused_at_RCPT_and_asked_about_once()
        {
            using var downstream = await DownstreamSmtpServer.StartAsync(CallaheadSourceTests.TwoUsers);
            using var proxy = Start(downstream);

            var refused = await Send(proxy, "carol@example.test");
            Assert.Contains("<** 550 5.1.1 Recipient address rejected: user unknown", refused.Stdout);
            var accepted = await Send(proxy, "alice@example.test");
            Assert.True(accepted.ExitCode == 0, accepted.ToString());
            var again = await Send(proxy, "carol@example.test");
            Assert.Contains("<** 550 5.1.1", again.Stdout);

            Assert.Equal(1, RcptsFor(downstream, "carol"));
            Assert.Contains("callahead: Unknown", proxy.Log);
            Assert.Contains("[cached]", proxy.Log);
            Assert.DoesNotContain(downstream.Of("command"), e => CallaheadSourceTests.Verb(e) == "DATA");
            var spooled = Assert.Single(proxy.Spooled());
            Assert.Equal("<alice@example.test>", Assert.Single(spooled.Envelope.Recipients).Address);
        }

        [DownstreamFact]
        public async Task A_downstream_that_is_gone_defers_what_the_store_does_not_know()
        {
            var downstream = await DownstreamSmtpServer.StartAsync(CallaheadSourceTests.TwoUsers);
            using var proxy = Start(downstream);
            Assert.Equal(0, (await Send(proxy, "alice@example.test")).ExitCode);
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);
            downstream.Dispose();

            Assert.Contains("<** 450 4.4.3 Recipient verification unavailable", (await Send(proxy, "bob@example.test")).Stdout);
            Assert.Equal(0, (await Send(proxy, "alice@example.test")).ExitCode);             // known, from the store
            Assert.Contains("<** 550 5.1.1", (await Send(proxy, "carol@example.test")).Stdout);  // unknown, from the store
        }

        [DownstreamFact]
        public async Task With_fail_mode_Accept_a_downstream_that_is_gone_costs_no_mail()
        {
            var downstream = await DownstreamSmtpServer.StartAsync(CallaheadSourceTests.TwoUsers);
            var port = downstream.Port;
            downstream.Dispose();
            using var proxy = TestProxy.Start(Rules, o =>
            {
                o.RecipientVerification.Sources.Add(new VerificationSource(new CallaheadSource(new CallaheadOptions { Host = "127.0.0.1", Port = port })));
                o.RecipientVerification.FailMode = VerificationFailMode.Accept;
            });
            var run = await Send(proxy, "bob@example.test");
            Assert.True(run.ExitCode == 0, run.ToString());
            Assert.Contains("unverified (fail mode Accept)", proxy.Log);
        }
    }
}
