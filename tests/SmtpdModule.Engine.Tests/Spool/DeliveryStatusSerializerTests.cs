using System;
using System.IO;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class DeliveryStatusSerializerTests
    {
        [Fact]
        public void A_record_survives_writing_and_reading_with_hostile_diagnostics()
        {
            var t = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
            var status = new DeliveryStatus { Attempts = 2, FirstAttempt = t, LastAttempt = t.AddMinutes(1), NextAttempt = t.AddMinutes(6), LastError = "451 4.3.0 bad\r\nrcpt: 0 delivered" };
            status.For(0).Status = RecipientStatus.Delivered;
            status.For(0).Time = t;
            status.For(0).StatusCode = "2.0.0";
            status.For(0).Diagnostic = "250 ok %41 ";
            status.For(5).Status = RecipientStatus.Failed;

            var text = new StringWriter();
            DeliveryStatusSerializer.Write(text, status);
            var back = DeliveryStatusSerializer.Read(new StringReader(text.ToString()));

            Assert.Equal(2, back.Attempts);
            Assert.Equal(t.AddMinutes(6), back.NextAttempt);
            Assert.Equal(status.LastError, back.LastError);
            Assert.Equal("250 ok %41 ", back.Recipients[0].Diagnostic);
            Assert.Equal("2.0.0", back.Recipients[0].StatusCode);
            Assert.Equal(RecipientStatus.Failed, back.StatusOf(5));
            Assert.Null(back.Recipients[5].Diagnostic);
            Assert.Equal(RecipientStatus.Pending, back.StatusOf(1));
        }

        [Theory]
        [InlineData("smtpd-status 2\nattempts: 1\n")]
        [InlineData("smtpd-status 1\n")]
        [InlineData("smtpd-status 1\nattempts: x\n")]
        [InlineData("smtpd-status 1\nattempts: 1\nrcpt: 0 sent - -\n")]
        [InlineData("smtpd-status 1\nattempts: 1\nrcpt: 0 delivered - -\nrcpt: 0 failed - -\n")]
        [InlineData("smtpd-status 1\nattempts: 1\nnext-attempt: tomorrow\n")]
        public void Anything_else_is_corrupt(string text)
        {
            var ex = Assert.Throws<SpoolException>(() => DeliveryStatusSerializer.Read(new StringReader(text)));
            Assert.Equal(SpoolErrorReason.Corrupt, ex.Reason);
        }
    }
}
