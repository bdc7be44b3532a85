using SmtpdModule.Engine.Verification;
using Xunit;

namespace SmtpdModule.Engine.Tests.Verification
{
    public class CallaheadReplyTests
    {
        [Theory]
        [InlineData(250, "2.1.5 Ok", false, MailboxStatus.Known)]
        [InlineData(251, "User not local; will forward", false, MailboxStatus.Known)]
        [InlineData(550, "5.1.1 No such user", false, MailboxStatus.Unknown)]
        [InlineData(550, "5.1.1 No such user", true, MailboxStatus.Unknown)]
        [InlineData(553, "5.1.3 Bad address syntax", true, MailboxStatus.Unknown)]
        [InlineData(550, "5.1.10 Null MX", true, MailboxStatus.Unknown)]
        // About the probe's sender, not the user: refusing <> at RCPT must not make everyone unknown.
        [InlineData(550, "5.1.8 Sender address rejected", true, MailboxStatus.Unavailable)]
        [InlineData(553, "5.1.7 Bad sender syntax", true, MailboxStatus.Unavailable)]
        [InlineData(550, "5.7.1 Relaying denied", false, MailboxStatus.Unavailable)]
        [InlineData(552, "5.2.2 Mailbox full", true, MailboxStatus.Unavailable)]
        [InlineData(550, "No such user here", false, MailboxStatus.Unknown)]
        [InlineData(550, "No such user here", true, MailboxStatus.Unavailable)]
        [InlineData(551, "User not local", false, MailboxStatus.Unavailable)]
        [InlineData(553, "Mailbox name not allowed", false, MailboxStatus.Unavailable)]
        [InlineData(554, "Transaction failed", false, MailboxStatus.Unavailable)]
        [InlineData(450, "4.2.1 Mailbox busy", false, MailboxStatus.Unavailable)]
        [InlineData(451, "4.1.1 Try later", false, MailboxStatus.Unavailable)]
        [InlineData(421, "4.4.2 Closing", false, MailboxStatus.Unavailable)]
        // A code whose class differs from the reply's is no enhanced code: then the bare-550 rule.
        [InlineData(550, "4.1.1 odd", false, MailboxStatus.Unavailable)]
        [InlineData(252, "Cannot VRFY", false, MailboxStatus.Unavailable)]
        [InlineData(550, "5.1.1", false, MailboxStatus.Unknown)]
        [InlineData(550, "5.1.1x not a code", false, MailboxStatus.Unknown)]
        public void Only_a_mailbox_answer_is_unknown(int code, string text, bool enhancedOffered, MailboxStatus expected) =>
            Assert.Equal(expected, CallaheadReply.Classify(code, text, enhancedOffered));

        [Fact]
        public void A_reply_is_described_on_one_bounded_line()
        {
            Assert.Equal("550 5.1.1 a b", CallaheadReply.Describe(550, "5.1.1 a\r\nb"));
            Assert.True(CallaheadReply.Describe(550, new string('x', 5000)).Length < 220);
        }
    }
}
