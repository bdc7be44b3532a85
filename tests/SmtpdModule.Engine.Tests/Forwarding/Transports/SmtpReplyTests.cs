using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    public class SmtpReplyTests
    {
        [Theory]
        [InlineData(550, "5.1.1 No such user", "5.1.1")]
        [InlineData(450, "4.2.1 Busy", "4.2.1")]
        [InlineData(250, "2.0.0 Ok", "2.0.0")]
        [InlineData(552, "5.3.4", "5.3.4")]
        [InlineData(550, "No such user", "5.0.0")]
        [InlineData(451, "5.1.1 class disagrees with the code", "4.0.0")]
        [InlineData(550, "5.1.1234 too long a detail", "5.0.0")]
        [InlineData(550, "5.1 too short", "5.0.0")]
        [InlineData(550, "5.1.1x glued", "5.0.0")]
        [InlineData(354, "go ahead", "4.0.0")]
        [InlineData(550, "", "5.0.0")]
        public void Status_comes_from_the_enhanced_code_or_the_reply_class(int code, string text, string status) =>
            Assert.Equal(status, SmtpReply.StatusOf(code, text));

        [Theory]
        [InlineData(250, DeliveryOutcome.Delivered)]
        [InlineData(421, DeliveryOutcome.Deferred)]
        [InlineData(452, DeliveryOutcome.Deferred)]
        [InlineData(554, DeliveryOutcome.Failed)]
        [InlineData(354, DeliveryOutcome.Deferred)]
        public void Outcome_follows_the_reply_class(int code, DeliveryOutcome outcome) =>
            Assert.Equal(outcome, SmtpReply.OutcomeOf(code));

        [Fact]
        public void Diagnostics_are_one_line_without_control_characters() =>
            Assert.Equal("550 5.7.1 first line second line", SmtpReply.Diagnostic(550, "5.7.1 first line\nsecond\u0007\tline"));
    }
}
