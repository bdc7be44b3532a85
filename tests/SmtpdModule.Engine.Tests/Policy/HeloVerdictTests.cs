using System.Net;
using SmtpdModule.Engine.Policy;
using SmtpdModule.Engine.Rules;
using SmtpdModule.Engine.Tests.Fixtures;
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
    }
}
