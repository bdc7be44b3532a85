using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using MimeKit;
using MimeKit.Utils;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Bounces;
using SmtpdModule.Engine.Spool;
using Xunit;
using static SmtpdModule.Engine.Tests.Forwarding.Bounces.BounceSamples;

namespace SmtpdModule.Engine.Tests.Forwarding.Bounces
{
    public class BounceBuilderTests
    {
        [Fact]
        public async Task Goes_from_the_null_path_to_the_original_sender()
        {
            var bounce = await BuildAsync();
            Assert.Equal("<>", bounce.From);
            Assert.Equal("<a@example.org>", bounce.Recipient);
            Assert.False(bounce.SmtpUtf8);
            Assert.Equal(EnvelopeBodyType.SevenBit, bounce.Body);
            AssertWellFormed(bounce);
        }

        [Fact]
        public async Task Header_names_the_mailer_daemon_the_sender_and_marks_the_reply_automatic()
        {
            var before = DateTimeOffset.UtcNow.AddSeconds(-1);
            var bounce = await BuildAsync();
            var message = Parse(bounce);

            var from = Assert.IsType<MailboxAddress>(Assert.Single(message.From));
            Assert.Equal("Mail Delivery System", from.Name);
            Assert.Equal("MAILER-DAEMON@" + Reporting, from.Address);
            Assert.Equal("a@example.org", Assert.IsType<MailboxAddress>(Assert.Single(message.To)).Address);
            Assert.Equal(BounceBuilder.Subject, message.Subject);
            Assert.InRange(message.Date, before, DateTimeOffset.UtcNow.AddSeconds(1));
            Assert.EndsWith("@" + Reporting, message.MessageId);
            Assert.Equal(message.MessageId, bounce.MessageId);
            Assert.Equal("auto-replied", message.Headers["Auto-Submitted"]);
        }

        [Fact]
        public async Task Body_is_a_delivery_status_report_of_three_parts()
        {
            var message = Parse(await BuildAsync());

            var report = Assert.IsType<MultipartReport>(message.Body);
            Assert.Equal("delivery-status", report.ReportType);
            Assert.Equal(3, report.Count);
            Assert.Equal("text/plain", report[0].ContentType.MimeType);
            Assert.IsType<MessageDeliveryStatus>(report[1]);
            Assert.Equal("text/rfc822-headers", report[2].ContentType.MimeType);
        }

        [Fact]
        public async Task Explanation_names_each_failed_recipient_with_its_diagnostic()
        {
            var message = Parse(await BuildAsync());
            var text = ((TextPart)((MultipartReport)message.Body)[0]).Text;

            Assert.Contains(Reporting, text);
            Assert.Contains("<b@example.com>", text);
            Assert.Contains("550 5.1.1 <b@example.com>: Recipient address rejected: User unknown", text);
            Assert.Contains("<c@example.com>", text);
            Assert.Contains("552 5.2.2 Mailbox full", text);
            Assert.Contains("mx.example.com", text);
            Assert.Contains(SampleSpoolId, text);
            Assert.DoesNotContain("shortened", text);
        }

        [Fact]
        public async Task Per_message_fields_name_us_the_client_the_spool_id_and_the_arrival()
        {
            var message = Parse(await BuildAsync());
            var status = (MessageDeliveryStatus)((MultipartReport)message.Body)[1];

            Assert.Equal(3, status.StatusGroups.Count);
            var perMessage = status.StatusGroups[0];
            Assert.Equal("dns; " + Reporting, perMessage["Reporting-MTA"]);
            Assert.Equal("dns; mail.example.org", perMessage["Received-From-MTA"]);
            Assert.Equal(SampleSpoolId, perMessage[BounceBuilder.SpoolIdField]);
            Assert.True(DateUtils.TryParse(perMessage["Arrival-Date"], out var arrival));
            Assert.Equal(ReceivedAt, arrival);
            // No ENVID was ever received, so there is none to return.
            Assert.False(perMessage.Contains("Original-Envelope-Id"));
        }

        [Fact]
        public async Task Each_failed_recipient_gets_a_block_with_status_remote_mta_diagnostic_and_date()
        {
            var message = Parse(await BuildAsync());
            var groups = ((MessageDeliveryStatus)((MultipartReport)message.Body)[1]).StatusGroups;

            var b = groups[1];
            Assert.Equal("rfc822; b@example.com", b["Final-Recipient"]);
            Assert.Equal("failed", b["Action"]);
            Assert.Equal("5.1.1", b["Status"]);
            Assert.Equal("dns; mx.example.com", b["Remote-MTA"]);
            Assert.Equal("smtp; 550 5.1.1 <b@example.com>: Recipient address rejected: User unknown", b["Diagnostic-Code"]);
            Assert.True(DateUtils.TryParse(b["Last-Attempt-Date"], out var last));
            Assert.Equal(LastAttempt, last);

            var c = groups[2];
            Assert.Equal("rfc822; c@example.com", c["Final-Recipient"]);
            Assert.Equal("5.2.2", c["Status"]);
            Assert.Equal("smtp; 552 5.2.2 Mailbox full", c["Diagnostic-Code"]);
        }

        [Fact]
        public async Task Returns_the_original_header_section_and_never_the_body()
        {
            var bounce = await BuildAsync();
            Assert.Equal(OriginalHeader, Encoding.ASCII.GetString(ReturnedHeader(bounce)));
            Assert.DoesNotContain("never returns", Encoding.UTF8.GetString(bounce.ToArray()));
        }

        [Fact]
        public async Task Without_a_remote_mta_or_a_diagnostic_those_fields_are_left_out()
        {
            var failed = new[] { Failed(0, "b@example.com", "5.3.0", "", "x-unix") };
            var bounce = await BuildAsync(failed: failed, remoteMta: null);
            var block = ((MessageDeliveryStatus)((MultipartReport)Parse(bounce).Body)[1]).StatusGroups[1];

            Assert.False(block.Contains("Remote-MTA"));
            Assert.False(block.Contains("Diagnostic-Code"));
            Assert.Equal("5.3.0", block["Status"]);
        }

        [Fact]
        public async Task A_program_failure_keeps_its_diagnostic_type()
        {
            var failed = new[] { Failed(0, "b@example.com", "5.1.1", "sendmail exited with 67 (EX_NOUSER)", "x-unix") };
            var block = ((MessageDeliveryStatus)((MultipartReport)Parse(await BuildAsync(failed: failed, remoteMta: null)).Body)[1]).StatusGroups[1];
            Assert.Equal("x-unix; sendmail exited with 67 (EX_NOUSER)", block["Diagnostic-Code"]);
        }

        [Theory]
        [InlineData("2.0.0", "5.0.0")]      // a success class cannot describe a failure
        [InlineData("550", "5.0.0")]
        [InlineData("5.1.1; rm -rf", "5.0.0")]
        [InlineData(null, "5.0.0")]
        [InlineData("4.4.7", "4.4.7")]      // expired in the queue: failed, with a transient class
        [InlineData("5.001.01", "5.1.1")]
        public async Task Status_is_an_rfc3463_code_or_the_undefined_failure(string given, string written)
        {
            var failed = new[] { Failed(0, "b@example.com", given) };
            var block = ((MessageDeliveryStatus)((MultipartReport)Parse(await BuildAsync(failed: failed)).Body)[1]).StatusGroups[1];
            Assert.Equal(written, block["Status"]);
        }

        [Fact]
        public async Task An_unusable_diagnostic_type_becomes_x_local()
        {
            var failed = new[] { Failed(0, "b@example.com", type: "smtp; x") };
            var block = ((MessageDeliveryStatus)((MultipartReport)Parse(await BuildAsync(failed: failed)).Body)[1]).StatusGroups[1];
            Assert.StartsWith("x-local; 550 5.1.1", block["Diagnostic-Code"]);
        }

        [Fact]
        public async Task A_source_route_in_the_reverse_path_is_dropped()
        {
            var bounce = await BuildAsync(Envelope("<@hop.example:a@example.org>"));
            Assert.Equal("<a@example.org>", bounce.Recipient);
            Assert.Equal("a@example.org", ((MailboxAddress)Parse(bounce).To.Single()).Address);
        }

        [Fact]
        public async Task A_message_without_a_header_gets_a_report_of_two_parts()
        {
            var bounce = await BuildAsync(message: Message("", "just a body\r\n"));
            var report = (MultipartReport)Parse(bounce).Body;
            Assert.Equal(2, report.Count);
            AssertWellFormed(bounce);
        }

        [Fact]
        public async Task The_header_section_ends_at_the_first_empty_line_even_with_bare_lf()
        {
            var bytes = Encoding.ASCII.GetBytes("Subject: s\nFrom: a@example.org\n\nX-Not-Header: body\n");
            var bounce = await BuildAsync(message: Message(bytes));
            var text = Encoding.ASCII.GetString(bounce.ToArray());
            Assert.Contains("Subject: s\r\nFrom: a@example.org\r\n", text);
            Assert.DoesNotContain("X-Not-Header", text);
            AssertWellFormed(bounce);
        }

        [Fact]
        public async Task Refuses_to_bounce_mail_from_the_null_path()
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => BuildAsync(Envelope("<>")));
            Assert.Equal("original", e.ParamName);
        }

        [Fact]
        public async Task Refuses_a_recipient_that_did_not_fail()
        {
            var mixed = new[]
            {
                Failed(0, "b@example.com"),
                new RecipientResult(new OutgoingRecipient(1, "c@example.com"), DeliveryOutcome.Deferred, "4.4.1", "Connection refused", "x-local"),
            };
            var e = await Assert.ThrowsAsync<ArgumentException>(() => BuildAsync(failed: mixed));
            Assert.Equal("failed", e.ParamName);
        }

        [Fact]
        public async Task Refuses_an_empty_list_of_failures()
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() => BuildAsync(failed: Array.Empty<RecipientResult>()));
            Assert.Equal("failed", e.ParamName);
        }

        [Theory]
        [InlineData("")]
        [InlineData("relay.example.net\r\nBcc: victim@example.com")]
        [InlineData("relay example net")]
        public async Task Refuses_a_reporting_mta_that_is_not_a_host_name(string reporting)
        {
            var e = await Assert.ThrowsAsync<ArgumentException>(() =>
                BounceBuilder.BuildAsync(Envelope(), Message(), TwoFailures(), LastAttempt, null, reporting));
            Assert.Equal("reportingMta", e.ParamName);
        }

        [Fact]
        public async Task Checks_arguments_before_reading()
        {
            await Assert.ThrowsAsync<ArgumentNullException>(() =>
                BounceBuilder.BuildAsync(null, Message(), TwoFailures(), LastAttempt, null, Reporting));
            await Assert.ThrowsAsync<ArgumentNullException>(() =>
                BounceBuilder.BuildAsync(Envelope(), null, TwoFailures(), LastAttempt, null, Reporting));
            await Assert.ThrowsAsync<ArgumentNullException>(() =>
                BounceBuilder.BuildAsync(Envelope(), Message(), null, LastAttempt, null, Reporting));
            await Assert.ThrowsAsync<ArgumentNullException>(() =>
                BounceBuilder.BuildAsync(Envelope(), Message(), TwoFailures(), LastAttempt, null, null));
        }

        [Fact]
        public async Task A_cancelled_build_throws_operation_cancelled()
        {
            using var cts = new CancellationTokenSource();
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                BounceBuilder.BuildAsync(Envelope(), Message(), TwoFailures(), LastAttempt, null, Reporting, cts.Token));
        }

        [Fact]
        public async Task Each_bounce_has_its_own_message_id()
        {
            var first = await BuildAsync();
            var second = await BuildAsync();
            Assert.NotEqual(first.MessageId, second.MessageId);
        }
    }
}
