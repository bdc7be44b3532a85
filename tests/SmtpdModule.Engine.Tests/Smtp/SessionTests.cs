using System;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>The receiver's protocol behaviour, byte by byte, against a real proxy on loopback.</summary>
    public class SessionTests
    {
        static string Body(byte[] b) => Encoding.UTF8.GetString(b);

        static string WithoutReceived(byte[] body)
        {
            var s = Body(body);
            Assert.StartsWith("Received: ", s);
            int end = s.IndexOf("\r\n", s.IndexOf(';'), StringComparison.Ordinal);
            return s.Substring(end + 2);
        }

        [Fact]
        public async Task A_message_is_in_the_spool_when_250_arrives()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250 2.1.0");
            await c.SendAsync("RCPT TO:<b@example.test>", "250 2.1.5");
            await c.SendAsync("DATA", "354");
            var reply = await c.SendAsync("Subject: hi\r\n\r\nhello\r\n.", "250 2.0.0");
            var spooled = Assert.Single(proxy.Spooled());
            Assert.Contains(spooled.Envelope.Id, reply);
            Assert.Equal("<a@example.org>", spooled.Envelope.From);
            Assert.Equal("Subject: hi\r\n\r\nhello\r\n", WithoutReceived(spooled.Body));
            Assert.Contains("for <b@example.test>", Body(spooled.Body));
            Assert.Equal(1, proxy.Proxy.Counters.Accepted);
        }

        [Fact]
        public async Task Pipelined_commands_are_answered_in_order_and_nothing_after_the_dot_is_lost()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.WriteAsync("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.test>\r\nRCPT TO:<c@example.test>\r\nDATA\r\n");
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.StartsWith("354", await c.ReadReplyAsync());
            await c.WriteAsync("one\r\n.\r\nMAIL FROM:<x@example.org>\r\nRCPT TO:<y@example.test>\r\nDATA\r\ntwo\r\n.\r\nQUIT\r\n");
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.StartsWith("354", await c.ReadReplyAsync());
            Assert.StartsWith("250 2.0.0", await c.ReadReplyAsync());
            Assert.StartsWith("221", await c.ReadReplyAsync());
            Assert.Equal(2, proxy.Spooled().Count);
        }

        [Fact]
        public async Task Dot_stuffing_is_removed_and_bare_lf_lines_are_stored_with_crlf()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            await c.WriteAsync("..leading\r\n.x\r\nbare\nlf\n...\r\nend\r\n.\r\n");
            Assert.StartsWith("250", await c.ReadReplyAsync());
            // "..." follows a bare LF: not a line start in SMTP, so its dots are text (SmugglingTests).
            Assert.Equal(".leading\r\nx\r\nbare\r\nlf\r\n...\r\nend\r\n", WithoutReceived(proxy.Spooled()[0].Body));
        }

        [Fact]
        public async Task Eight_bit_bytes_are_kept_as_they_came()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org> BODY=8BITMIME", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            var body = new byte[] { 0xC3, 0xA9, 0xFF, 0x00, 0x80, (byte)'\r', (byte)'\n', (byte)'.', (byte)'\r', (byte)'\n' };
            await c.WriteAsync(body);
            Assert.StartsWith("250", await c.ReadReplyAsync());
            var stored = proxy.Spooled()[0].Body;
            Assert.Equal(body.Take(7), stored.Skip(stored.Length - 7));
            Assert.Equal(SmtpdModule.Engine.Spool.EnvelopeBodyType.EightBitMime, proxy.Spooled()[0].Envelope.Body);
        }

        [Fact]
        public async Task Long_lines_cross_buffer_boundaries_intact_and_stray_crs_become_line_ends()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxTextLine = 1 << 20);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            var rng = new Random(7);
            var sb = new StringBuilder();
            sb.Append(new string('a', 200000)).Append("\r\n");
            for (int i = 0; i < 2000; i++) sb.Append(new string((char)('a' + rng.Next(26)), rng.Next(0, 300))).Append(i % 7 == 0 ? "\rmid\r\n" : "\r\n");
            var text = sb.ToString();
            await c.WriteAsync(text + ".\r\n");
            Assert.StartsWith("250", await c.ReadReplyAsync());
            Assert.Equal(text.Replace("\rmid", "\r\nmid"), WithoutReceived(proxy.Spooled()[0].Body));
        }

        [Fact]
        public async Task A_line_over_the_text_limit_is_read_to_the_dot_then_refused()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxTextLine = 1000);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            await c.WriteAsync(new string('x', 998) + "\r\n" + new string('y', 999) + "\r\n.\r\n");
            Assert.StartsWith("500 5.5.2", await c.ReadReplyAsync());
            await c.SendAsync("NOOP", "250");
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task An_oversize_message_is_read_to_the_dot_then_refused_and_the_session_goes_on()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxMessageSize = 1000);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            Assert.Contains("SIZE 1000", await c.SendAsync("EHLO again.example", "250"));
            await c.SendAsync("MAIL FROM:<a@example.org> SIZE=5000", "552 5.3.4");
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("DATA", "354");
            await c.WriteAsync(string.Concat(Enumerable.Repeat(new string('x', 98) + "\r\n", 30)) + ".\r\n");
            Assert.StartsWith("552 5.3.4", await c.ReadReplyAsync());
            await c.SendAsync("NOOP", "250");
            Assert.Empty(proxy.Spooled());
        }

        [Fact]
        public async Task Recipients_beyond_the_limit_get_452()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxRecipients = 3);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            for (int i = 0; i < 3; i++) await c.SendAsync("RCPT TO:<b" + i + "@example.test>", "250");
            await c.SendAsync("RCPT TO:<b9@example.test>", "452 4.5.3");
        }

        [Fact]
        public async Task Noto_refuses_one_recipient_and_deny_closes_the_session()
        {
            using var proxy = TestProxy.Start("noto:ALL:ALL:*@spam.test:550 5.7.1 no %T\ndeny:ALL:ALL:*@evil.test:554 5.7.1 go away\nallow:ALL:ALL:ALL\n");
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<x@spam.test>", "550 5.7.1 no <x@spam.test>");
            await c.SendAsync("RCPT TO:<b@example.test>", "250");
            await c.SendAsync("RCPT TO:<y@evil.test>", "554 5.7.1 go away");
            Assert.StartsWith("421", await c.ReadReplyAsync());
            Assert.True(await c.IsClosedAsync());
            Assert.Empty(proxy.Spooled());
            Assert.Equal(1, proxy.Proxy.Counters.Refused);
            Assert.Equal(1, proxy.Proxy.Counters.Denied);
        }

        [Theory]
        [InlineData("RCPT TO:<b@example.test>", "503")]
        [InlineData("DATA", "503")]
        public async Task Commands_out_of_sequence_get_503(string command, string code)
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync(command, code);
        }

        [Fact]
        public async Task Data_without_an_accepted_recipient_gets_554()
        {
            using var proxy = TestProxy.Start("noto:ALL:ALL:ALL\n");
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:<b@example.test>", "550");
            await c.SendAsync("DATA", "554 5.5.1");
        }

        [Fact]
        public async Task Mail_before_hello_gets_503()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint, greet: false);
            await c.ReadReplyAsync();
            await c.SendAsync("MAIL FROM:<a@example.org>", "503");
        }

        [Fact]
        public async Task An_overlong_command_line_gets_500_and_the_session_goes_on()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("NOOP " + new string('x', 100000), "500 5.5.2");
            await c.SendAsync("NOOP", "250");
        }

        [Fact]
        public async Task A_silent_client_gets_421_after_the_read_timeout()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.ReadTimeout = TimeSpan.FromMilliseconds(300));
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            Assert.StartsWith("421 4.4.2", await c.ReadReplyAsync(5000));
            Assert.True(await c.IsClosedAsync());
        }

        [Fact]
        public async Task Stopping_tells_idle_sessions_421()
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            var stop = proxy.Proxy.StopAsync(TimeSpan.FromSeconds(5));
            Assert.StartsWith("421 4.3.2", await c.ReadReplyAsync(5000));
            await stop;
            Assert.False(proxy.Proxy.IsRunning);
        }

        [Fact]
        public async Task Sessions_beyond_the_per_client_limit_get_421()
        {
            using var proxy = TestProxy.Start(configure: o => o.MaxSessionsPerClient = 2);
            using var a = await LineClient.ConnectAsync(proxy.EndPoint);
            using var b = await LineClient.ConnectAsync(proxy.EndPoint);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint, greet: false);
            Assert.StartsWith("421 4.7.0", await c.ReadReplyAsync());
            a.Dispose();
            await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active < 2, proxy.Log);
            using var d = await LineClient.ConnectAsync(proxy.EndPoint);
        }

        [Theory]
        [InlineData("<b%far.test@example.test>")]
        [InlineData("<far.test!b@example.test>")]
        [InlineData("<@relay.test:b@example.test>")]
        [InlineData("<\"b@far.test\"@example.test>")]
        public async Task Routed_addresses_get_553_before_the_rules_see_them(string to)
        {
            using var proxy = TestProxy.Start();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            await c.SendAsync("RCPT TO:" + to, "553 5.1.3");
            Assert.DoesNotContain(proxy.Events, e => e.Kind == "decision");
        }

        [Fact]
        public async Task Too_many_errors_end_the_session()
        {
            using var proxy = TestProxy.Start(configure: o => o.Limits.MaxErrors = 3);
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            for (int i = 0; i < 3; i++) await c.SendAsync("BOGUS", "500");
            await c.SendAsync("BOGUS", "421");
            Assert.True(await c.IsClosedAsync());
        }

        [Fact]
        public async Task A_client_that_vanishes_mid_data_leaves_nothing_behind()
        {
            using var proxy = TestProxy.Start();
            using (var c = await LineClient.ConnectAsync(proxy.EndPoint))
            {
                await c.SendAsync("MAIL FROM:<a@example.org>", "250");
                await c.SendAsync("RCPT TO:<b@example.test>", "250");
                await c.SendAsync("DATA", "354");
                await c.WriteAsync("half a message\r\n");
            }
            await TestWait.UntilAsync(() => proxy.Proxy.Counters.Active == 0, proxy.Log);
            Assert.Empty(proxy.Spooled());
            Assert.Empty(Directory.GetFiles(Path.Combine(proxy.SpoolPath, "incoming")).Where(f => !Spool.TempSpool.IsFreeSlot(f)));
            Assert.Empty(Directory.GetFiles(Path.Combine(proxy.SpoolPath, "ready")));
        }

        [Fact]
        public async Task An_edited_rules_file_takes_effect_without_a_restart()
        {
            using var proxy = TestProxy.Start("allow:ALL:ALL:ALL\n");
            File.WriteAllText(proxy.RulesPath, "noto:ALL:ALL:ALL:550 5.7.1 closed\n");
            File.SetLastWriteTimeUtc(proxy.RulesPath, DateTime.UtcNow.AddSeconds(5));
            await TestWait.UntilAsync(async () =>
            {
                using var c = await LineClient.ConnectAsync(proxy.EndPoint);
                await c.SendAsync("MAIL FROM:<a@example.org>", "250");
                await c.WriteAsync("RCPT TO:<b@example.test>\r\n");
                return (await c.ReadReplyAsync()).StartsWith("550 5.7.1 closed");
            }, proxy.Log);
        }
    }
}
