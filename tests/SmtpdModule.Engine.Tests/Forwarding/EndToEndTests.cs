using System;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding
{
    /// <summary>From a client we did not write (smtplib) through the proxy and the spool to a
    /// server we did not write (aiosmtpd): what arrives is what was sent, plus our Received: header.</summary>
    public class EndToEndTests
    {
        [DownstreamFact]
        public async Task An_awkward_message_arrives_byte_for_byte_apart_from_our_received_header()
        {
            using var proxy = TestProxy.Start();
            using var downstream = await DownstreamSmtpServer.StartAsync();
            // Dot lines, 8-bit text, a 5,000-character line, trailing white space, and no newline
            // at the end (smtplib adds the CRLF the terminating dot needs, and that is all).
            var message = "From: <a@example.org>\r\nTo: <b@example.test>\r\nSubject: end to end\r\n" +
                          "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" +
                          ".\r\n..\r\n.leading dot\r\ncafé, naïve, “quotes”\r\n" + new string('x', 5000) + "\r\n" +
                          "trailing   \r\n\r\nlast line without a newline";
            var spec = new
            {
                host = "127.0.0.1", port = proxy.EndPoint.Port, helo = "client.example.org", timeout = 10,
                from = "a@example.org", to = new[] { "b@example.test" }, message,
                mail_options = new[] { "BODY=8BITMIME" },
            };
            var (result, run) = await ExternalClient.PythonAsync("smtplib_send.py", spec);
            Assert.True(result.GetProperty("result").GetString() == "sent", "smtplib did not send:\n" + run);

            var summary = await Forwarder.RunOnceAsync(new ForwarderOptions
            {
                SpoolPath = proxy.SpoolPath,
                HostName = "relay.example.net",
                Transport = new SmtpTransport(new SmtpTransportOptions { Host = "127.0.0.1", Port = downstream.Port, LocalDomain = "relay.example.net" }),
            });

            Assert.Equal(1, summary.Forwarded);
            var arrived = (await downstream.WaitForMessagesAsync(1)).Single();
            Assert.Equal(new[] { "b@example.test" }, arrived.GetProperty("rcpt_tos").EnumerateArray().Select(e => e.GetString()));
            Assert.Contains("BODY=8BITMIME", arrived.GetProperty("mail_options").EnumerateArray().Select(e => e.GetString()));
            var bytes = downstream.Bytes(arrived);
            Assert.StartsWith("Received: from ", Encoding.ASCII.GetString(bytes, 0, 20));
            Assert.Equal(Encoding.UTF8.GetBytes(message + "\r\n"), ExternalClientTests.AfterReceived(bytes));
        }
    }
}
