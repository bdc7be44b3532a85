using SmtpdModule.Engine.Smtp;
using Xunit;
using SmtpdModule.Engine.Protocol;

namespace SmtpdModule.Engine.Tests.Smtp
{
    public class CommandParserTests
    {
        [Theory]
        [InlineData("EHLO client.example", SmtpVerb.Ehlo, "client.example")]
        [InlineData("helo   client.example  ", SmtpVerb.Helo, "client.example")]
        [InlineData("NOOP", SmtpVerb.Noop, "")]
        [InlineData("noop anything", SmtpVerb.Noop, "anything")]
        [InlineData("VRFY postmaster", SmtpVerb.Vrfy, "postmaster")]
        [InlineData("StartTLS", SmtpVerb.StartTls, "")]
        public void Verbs_are_case_insensitive(string line, SmtpVerb verb, string argument)
        {
            Assert.True(CommandParser.TryParse(line, out var c, out _));
            Assert.Equal(verb, c.Verb);
            Assert.Equal(argument, c.Argument);
        }

        [Theory]
        [InlineData("MAIL FROM:<a@example.test>", "<a@example.test>")]
        [InlineData("mail from: <a@example.test>", "<a@example.test>")]
        [InlineData("MAIL FROM:<>", "<>")]
        [InlineData("MAIL FROM:<\"a b>c\"@example.test> SIZE=10", "<\"a b>c\"@example.test>")]
        [InlineData("MAIL FROM:a@example.test", "a@example.test")]
        public void Mail_path_is_kept_as_sent(string line, string path)
        {
            Assert.True(CommandParser.TryParse(line, out var c, out var e), e?.ToString());
            Assert.Equal(path, c.PathText);
        }

        [Fact]
        public void Mail_parameters()
        {
            Assert.True(CommandParser.TryParse("MAIL FROM:<a@b.test> SIZE=1234 BODY=8BITMIME SMTPUTF8", out var c, out _));
            Assert.Equal(1234, c.DeclaredSize);
            Assert.Equal(BodyType.EightBitMime, c.Body);
            Assert.True(c.SmtpUtf8);
        }

        [Theory]
        [InlineData("MAIL FROM:<a@b.test> AUTH=<>", 555)]
        [InlineData("MAIL FROM:<a@b.test> SIZE=x", 555)]
        [InlineData("RCPT TO:<a@b.test> NOTIFY=NEVER", 555)]
        [InlineData("MAIL TO:<a@b.test>", 501)]
        [InlineData("MAIL FROM:<a@b.test", 501)]
        [InlineData("RCPT TO:", 501)]
        [InlineData("EHLO", 501)]
        [InlineData("DATA now", 501)]
        [InlineData("EXPN list", 500)]
        [InlineData("", 500)]
        [InlineData("WIZ", 500)]
        public void Bad_commands_get_their_reply(string line, int code)
        {
            Assert.False(CommandParser.TryParse(line, out _, out var e));
            Assert.Equal(code, e.Code);
        }
    }

    public class MailPathTests
    {
        [Theory]
        [InlineData("<a@example.test>", true)]
        [InlineData("<first.last+tag@sub.example.test>", true)]
        [InlineData("<\"quoted local\"@example.test>", true)]
        [InlineData("<a@[192.0.2.1]>", true)]
        [InlineData("<a@[IPv6:2001:db8::1]>", true)]
        [InlineData("<postmaster>", true)]
        [InlineData("<a@example.test.>", false)]     // trailing dot: an empty label
        [InlineData("<a..b@example.test>", false)]
        [InlineData("<a@-example.test>", false)]
        [InlineData("<a@[999.0.2.1]>", false)]
        [InlineData("<>", false)]                    // not a recipient
        [InlineData("<a@b", false)]
        public void Strict_recipient_syntax(string text, bool ok)
        {
            Assert.Equal(ok, MailPath.TryParse(text, allowNull: false, strict: true, smtpUtf8: false, out _) == MailPath.Problem.None);
        }

        [Theory]
        [InlineData("<@relay.test:a@example.test>")]     // source route
        [InlineData("<@r1.test,@r2.test:a@example.test>")]
        [InlineData("<a%far.test@example.test>")]        // percent hack
        [InlineData("<far.test!a@example.test>")]        // bang path
        [InlineData("<\"a@far.test\"@example.test>")]    // quoted local part holding '@'
        [InlineData("<a@far.test@example.test>")]        // double @
        public void Relay_tricks_are_refused_as_routed_when_strict(string text)
        {
            Assert.Equal(MailPath.Problem.Routed, MailPath.TryParse(text, false, strict: true, smtpUtf8: false, out _));
            // Not strict, they reach the rules as the original passed them.
            Assert.Equal(MailPath.Problem.None, MailPath.TryParse(text, false, strict: false, smtpUtf8: false, out var path));
            Assert.Equal(text, path.Text);
        }

        [Fact]
        public void Non_ascii_needs_smtputf8()
        {
            Assert.Equal(MailPath.Problem.NeedsSmtpUtf8, MailPath.TryParse("<jörg@example.test>", false, true, smtpUtf8: false, out _));
            Assert.Equal(MailPath.Problem.None, MailPath.TryParse("<jörg@bücher.example>", false, true, smtpUtf8: true, out var p));
            Assert.Equal("bücher.example", p.Domain);
        }

        [Fact]
        public void Controls_and_nul_are_syntax_errors()
        {
            Assert.Equal(MailPath.Problem.Syntax, MailPath.TryParse("<a\0b@example.test>", false, true, false, out _));
            Assert.Equal(MailPath.Problem.Syntax, MailPath.TryParse("<a\0b@example.test>", false, false, false, out _));
        }
    }

    public class ReceivedHeaderTests
    {
        [Fact]
        public void Received_header_carries_protocol_id_recipient_and_an_rfc5322_date()
        {
            var when = new System.DateTimeOffset(2026, 11, 25, 7, 30, 5, System.TimeSpan.FromHours(1));
            var h = ReceivedHeader.Build("client.example", null, "192.0.2.10", "mx.example.test", "ESMTPS", "abc123", "<b@example.test>", when);
            Assert.Equal("Received: from client.example (unknown [192.0.2.10])\r\n\tby mx.example.test (SmtpdModule) with ESMTPS id abc123\r\n\tfor <b@example.test>; Wed, 25 Nov 2026 07:30:05 +0100\r\n", h);
        }

        [Fact]
        public void A_hostile_helo_cannot_break_the_header()
        {
            var h = ReceivedHeader.Build("evil\r\nX-Injected: yes", "n", "192.0.2.10", "mx", "ESMTP", "id", null, System.DateTimeOffset.UtcNow);
            Assert.DoesNotContain("\r\nX-Injected", h);
        }

        [Theory]
        [InlineData(false, false, false, "SMTP")]
        [InlineData(true, false, false, "ESMTP")]
        [InlineData(true, true, false, "ESMTPS")]
        [InlineData(true, true, true, "UTF8SMTPS")]
        public void Protocol_keywords(bool esmtp, bool tls, bool utf8, string expected) =>
            Assert.Equal(expected, ReceivedHeader.Protocol(esmtp, tls, false, utf8));
    }
}
