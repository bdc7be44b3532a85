using System.Net;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Policy
{
    /// <summary>The HELO stage's verdict holds every line a client reads, the EHLO extensions too.</summary>
    public class HeloVerdictTests
    {
        static PolicyPipeline Pipeline(bool tls) =>
            new PolicyPipeline(new RuleEvaluator(RuleSet.Parse("allow:ALL:ALL:ALL\n")),
                               new PolicyOptions { HostName = "mx.test", MaxMessageSize = 1000, OfferStartTls = tls });

        static PolicySession Session() => new PolicySession(IPAddress.Parse("192.0.2.7"), new LiveFacts(new FactDnsResolver()));

        [Fact]
        public void Helo_answers_one_line()
        {
            var v = Pipeline(tls: true).Helo(Session(), "client.test", esmtp: false);
            Assert.Equal(new[] { "250 mx.test Hello client.test [192.0.2.7]" }, v.Replies);
            Assert.Equal(VerdictKind.Continue, v.Kind);
        }

        [Fact]
        public void Ehlo_lists_the_extensions_and_ends_with_a_space_after_the_code()
        {
            var v = Pipeline(tls: false).Helo(Session(), "client.test", esmtp: true);
            Assert.Equal(new[]
            {
                "250-mx.test Hello client.test [192.0.2.7]", "250-PIPELINING", "250-SIZE 1000", "250-8BITMIME",
                "250-ENHANCEDSTATUSCODES", "250 SMTPUTF8",
            }, v.Replies);
        }

        [Fact]
        public void Starttls_is_offered_until_the_session_is_secured()
        {
            var pipeline = Pipeline(tls: true);
            var session = Session();
            Assert.Equal("250 STARTTLS", pipeline.Helo(session, "c", esmtp: true).Replies[6]);
            session.Secured();
            var after = pipeline.Helo(session, "c", esmtp: true).Replies;
            Assert.Equal("250 SMTPUTF8", after[after.Count - 1]);
            Assert.DoesNotContain(after, l => l.Contains("STARTTLS"));
        }

        static DownstreamLimits Downstream(long size, bool smtpUtf8) => new DownstreamLimits(size, smtpUtf8, true, System.DateTimeOffset.UtcNow, "mail.test:25");

        [Fact]
        public void Ehlo_announces_the_smaller_of_the_proxys_SIZE_and_the_downstreams_and_SMTPUTF8_only_when_the_downstream_takes_it()
        {
            var pipeline = Pipeline(tls: true);
            var smaller = Session();
            smaller.UseDownstream(Downstream(500, smtpUtf8: false));
            Assert.Equal(new[]
            {
                "250-mx.test Hello c [192.0.2.7]", "250-PIPELINING", "250-SIZE 500", "250-8BITMIME", "250-ENHANCEDSTATUSCODES", "250 STARTTLS",
            }, pipeline.Helo(smaller, "c", esmtp: true).Replies);
            Assert.Equal(500, pipeline.MaxMessageSize(smaller));

            var larger = Session();
            larger.UseDownstream(Downstream(5000, smtpUtf8: true));
            Assert.Contains("250-SIZE 1000", pipeline.Helo(larger, "c", esmtp: true).Replies);
            Assert.Equal(1000, pipeline.MaxMessageSize(larger));

            var unknown = Session();
            unknown.UseDownstream(DownstreamLimits.Unavailable("connection refused"));
            Assert.Equal(Pipeline(tls: true).Helo(Session(), "c", esmtp: true).Replies, pipeline.Helo(unknown, "c", esmtp: true).Replies);
        }

        [Fact]
        public void Mail_refuses_a_declared_SIZE_over_the_downstreams_and_SMTPUTF8_the_downstream_does_not_take()
        {
            var pipeline = Pipeline(tls: false);
            var session = Session();
            session.UseDownstream(Downstream(500, smtpUtf8: false));

            Assert.Equal("552 5.3.4 Message size exceeds fixed maximum message size", pipeline.Mail(session, "<a@b.test>", false, 501).Replies[0]);
            Assert.Equal(VerdictKind.Continue, pipeline.Mail(session, "<a@b.test>", false, 500).Kind);
            Assert.StartsWith("555 5.5.4", pipeline.Mail(session, "<a@b.test>", true).Replies[0]);
            Assert.StartsWith("553 5.6.7", pipeline.Mail(session, "<ü@b.test>", false).Replies[0]);

            var own = Session();
            Assert.Equal(VerdictKind.Continue, pipeline.Mail(own, "<ü@b.test>", true, 1000).Kind);
            Assert.Equal(VerdictKind.Reject, pipeline.Mail(own, "<a@b.test>", false, 1001).Kind);
        }
    }
}
