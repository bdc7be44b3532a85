using SmtpdModule.Engine.Forwarding.Bounces;
using Xunit;
using static SmtpdModule.Engine.Tests.Forwarding.Bounces.BounceSamples;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    public class BouncePolicyTests
    {
        [Theory]
        [InlineData("<>", false)]            // RFC 5321 §6.1: never answer a notification
        [InlineData("< >", false)]
        [InlineData("", false)]
        [InlineData(null, false)]
        [InlineData("<a@example.org>", true)]
        [InlineData("a@example.org", true)]
        [InlineData("<MAILER-DAEMON@example.org>", true)]   // no guessing from names: the null path is the signal
        [InlineData("<postmaster@example.org>", true)]
        public void Bounces_all_but_the_null_path(string reversePath, bool expected)
        {
            Assert.Equal(expected, BouncePolicy.ShouldBounce(reversePath));
        }

        [Fact]
        public void Reads_the_sender_of_an_envelope()
        {
            Assert.True(BouncePolicy.ShouldBounce(Envelope("<a@example.org>")));
            Assert.False(BouncePolicy.ShouldBounce(Envelope("<>")));
            Assert.False(BouncePolicy.ShouldBounce((SmtpdModule.Engine.Spool.Envelope)null));
        }
    }
}
