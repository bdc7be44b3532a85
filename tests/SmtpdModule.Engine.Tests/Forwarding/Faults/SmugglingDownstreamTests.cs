using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Forwarding;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Smtp;
using SmtpdModule.Engine.Tests.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Faults
{
    /// <summary>
    /// The second hop of SMTP smuggling: what the forwarder (SmtpTransport, MailKit) puts on the
    /// wire, recorded byte for byte by tests/fixtures/downstream/fault_server.py (--fault none).
    /// Whatever the spool holds (the proxy's CRLF-only text, or lone CRs and LFs that an older
    /// version stored), the wire has CRLF line ends only, every line starting with "." is
    /// stuffed, and there are exactly as many transactions as messages.
    /// </summary>
    public class SmugglingDownstreamTests
    {
        static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");

        static ForwarderOptions Options(string spool, int port) => new ForwarderOptions
        {
            SpoolPath = spool,
            PollInterval = TimeSpan.FromSeconds(1),
            Retry = new RetrySchedule(new[] { TimeSpan.FromSeconds(1) }),
            HostName = "relay.example.net",
            Transport = TestTransports.Smtp(port, o => o.CommandTimeout = TimeSpan.FromSeconds(30)),
        };

        /// <summary>Spooled bytes with every lone CR and LF as CRLF: what the wire must carry.</summary>
        static byte[] Crlf(byte[] b)
        {
            var o = new MemoryStream();
            for (int i = 0; i < b.Length; i++)
            {
                if (b[i] == '\r')
                {
                    o.WriteByte((byte)'\r');
                    o.WriteByte((byte)'\n');
                    if (i + 1 < b.Length && b[i + 1] == '\n') i++;
                }
                else if (b[i] == '\n')
                {
                    o.WriteByte((byte)'\r');
                    o.WriteByte((byte)'\n');
                }
                else o.WriteByte(b[i]);
            }
            return o.ToArray();
        }

        /// <summary>Checks the client's side of every recorded session: CRLF only, dot-stuffed
        /// text, and returns the number of transactions (MAIL commands outside the text).</summary>
        static int CheckWire(DownstreamSmtpServer server)
        {
            int transactions = 0;
            foreach (var file in Directory.GetFiles(server.CaptureDirectory, "session-*.raw"))
            {
                var raw = File.ReadAllBytes(file);
                SmugglingTests.AssertNoLoneLineEnds(raw, Path.GetFileName(file));
                bool inData = false;
                foreach (var line in Latin1.GetString(raw).Split(new[] { "\r\n" }, StringSplitOptions.None))
                {
                    if (inData)
                    {
                        if (line == ".") inData = false;
                        else if (line.StartsWith(".", StringComparison.Ordinal)) Assert.True(line.StartsWith("..", StringComparison.Ordinal), "not stuffed: '" + line + "' in " + Path.GetFileName(file) + ": " + Latin1.GetString(raw).Replace("\r\n", "\n"));
                        continue;
                    }
                    if (line.StartsWith("MAIL FROM:", StringComparison.OrdinalIgnoreCase)) transactions++;
                    else if (line.Equals("DATA", StringComparison.OrdinalIgnoreCase)) inData = true;
                }
                Assert.False(inData, "a session ended inside DATA");
            }
            return transactions;
        }

        [DownstreamFact]
        public async Task Lone_CRs_and_LFs_spooled_by_an_older_version_go_out_as_CRLF_with_no_hidden_transaction()
        {
            using var spool = new TempSpool();
            using var server = await DownstreamSmtpServer.StartFaultyAsync("none");
            var writer = SpoolWriter.Open(spool.Root);
            var expected = new Dictionary<string, byte[]>();
            int n = 0;
            foreach (var before in SmugglingTests.Pieces())
                foreach (var after in SmugglingTests.Pieces())
                {
                    // Stored as they are: no proxy in between to normalise them.
                    var subject = "n-" + (++n);
                    var body = Latin1.GetBytes("Subject: " + subject + "\r\n\r\nx" + before + "." + after +
                        "MAIL FROM:<forged@bank.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nsmuggled\n.\n" + before + "end");
                    var message = writer.BeginMessage(TempSpool.NewEnvelope("<rcpt@example.com>"));
                    message.Body.Write(body, 0, body.Length);
                    await writer.CommitAsync(message);
                    var wire = Crlf(body);
                    // MailKit ends text that lacks a final CRLF with one.
                    if (wire.Length < 2 || wire[wire.Length - 2] != '\r' || wire[wire.Length - 1] != '\n')
                        wire = wire.Concat(new[] { (byte)'\r', (byte)'\n' }).ToArray();
                    expected[subject] = wire;
                }

            var summary = await Forwarder.RunOnceAsync(Options(spool.Root, server.Port), null, null, default);

            Assert.True(summary.Forwarded == n && summary.Deferred == 0 && summary.Failed == 0,
                "forwarded " + summary.Forwarded + ", deferred " + summary.Deferred + ", failed " + summary.Failed + "; " + server.Describe());
            var messages = server.Messages;
            Assert.Equal(n, messages.Count);
            foreach (var m in messages)
            {
                var got = server.Bytes(m);
                var text = Latin1.GetString(got);
                var subject = text.Substring(9, text.IndexOf("\r\n", StringComparison.Ordinal) - 9);
                Assert.True(expected[subject].SequenceEqual(got), subject + ": got\n" + text);
                Assert.Equal("a@example.org", m.GetProperty("mail_from").GetString());
            }
            Assert.Equal(n, CheckWire(server));
        }

        [DownstreamFact]
        public async Task Smuggling_attempts_accepted_by_the_proxy_reach_downstream_as_one_transaction_each()
        {
            using var proxy = TestProxy.Start();
            using var server = await DownstreamSmtpServer.StartFaultyAsync("none");
            int n = 0;
            foreach (var before in SmugglingTests.Pieces())
            {
                var text = SmugglingTests.Text(before, "\n");
                if (text == null) continue;
                using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
                await smtp.SendAsync("MAIL FROM:<sender@example.org>", "250");
                await smtp.SendAsync("RCPT TO:<rcpt@example.com>", "250");
                await smtp.SendAsync("DATA", "354");
                await smtp.WriteAsync(Latin1.GetBytes(text));
                await smtp.SendAsync(".", "250");
                n++;
            }
            var spooled = proxy.Spooled().ToDictionary(m => m.Envelope.Id, m => m.Body);

            var summary = await Forwarder.RunOnceAsync(Options(proxy.SpoolPath, server.Port), null, null, default);

            Assert.Equal(n, summary.Forwarded);
            Assert.Equal(n, server.Messages.Count);
            // Proxy-spooled text has CRLF only already: it goes out byte for byte.
            var sent = server.Messages.Select(server.Bytes).ToList();
            foreach (var body in spooled.Values) Assert.Contains(sent, s => s.SequenceEqual(body));
            Assert.All(server.Messages, m => Assert.Equal("sender@example.org", m.GetProperty("mail_from").GetString()));
            Assert.Equal(n, CheckWire(server));
        }
    }
}
