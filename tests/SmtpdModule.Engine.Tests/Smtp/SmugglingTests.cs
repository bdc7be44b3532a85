using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>
    /// SMTP smuggling (SEC Consult, December 2023) against the proxy, through a real socket: the
    /// text of one message holds every combination of CR, LF, NUL and "." around a "." line, and
    /// after it a whole second transaction. Only CRLF "." CRLF ends the text, so the second
    /// transaction must stay text: one reply to the DATA, exactly one message spooled (none when
    /// refusing bare line ends), and in the spool no lone CR or LF.
    /// </summary>
    public class SmugglingTests
    {
        static readonly Encoding Latin1 = Encoding.GetEncoding("ISO-8859-1");
        const string Hidden = "MAIL FROM:<forged@bank.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\nFrom: forged@bank.example\r\n\r\nsmuggled\r\n";

        /// <summary>Every string of up to two of CR, LF, NUL and ".".</summary>
        internal static IReadOnlyList<string> Pieces()
        {
            var atoms = new[] { "\r", "\n", "\0", "." };
            var all = new List<string> { "" };
            all.AddRange(atoms);
            foreach (var a in atoms)
                foreach (var b in atoms) all.Add(a + b);
            return all;
        }

        /// <summary>The text around the fake end: "x", before, ".", after, then the hidden
        /// transaction. Null when before and after make a real CRLF "." CRLF (the client then did
        /// end the text, and the second transaction is its right).</summary>
        internal static string Text(string before, string after)
        {
            var text = "Subject: smuggle\r\n\r\nx" + before + "." + after + Hidden;
            return ("\r\n" + text).Contains("\r\n.\r\n") ? null : text;
        }

        /// <summary>What the proxy stores of a text (without its terminating line): lines are
        /// what CRLF delimits; a leading dot is removed; every CR or LF left is a lone one and
        /// becomes CRLF. Written apart from the reader, from the rules in the issue.</summary>
        internal static (string Stored, int Bare) Normalise(string text)
        {
            var sb = new StringBuilder();
            int bare = 0;
            foreach (var line in text.Split(new[] { "\r\n" }, StringSplitOptions.None).SkipLast(1))
            {
                var l = line.StartsWith(".", StringComparison.Ordinal) ? line.Substring(1) : line;
                foreach (var c in l)
                {
                    if (c == '\r' || c == '\n') { bare++; sb.Append("\r\n"); }
                    else sb.Append(c);
                }
                sb.Append("\r\n");
            }
            return (sb.ToString(), bare);
        }

        internal static void AssertNoLoneLineEnds(byte[] b, string what)
        {
            for (int i = 0; i < b.Length; i++)
            {
                if (b[i] == '\r' && (i + 1 == b.Length || b[i + 1] != '\n'))
                    throw new Xunit.Sdk.XunitException("lone CR at " + i + " of " + what);
                if (b[i] == '\n' && (i == 0 || b[i - 1] != '\r'))
                    throw new Xunit.Sdk.XunitException("lone LF at " + i + " of " + what);
            }
        }

        static string Show(string s) => s.Replace("\r", "<CR>").Replace("\n", "<LF>").Replace("\0", "<NUL>");

        [Theory]
        [InlineData(BareLineEndingPolicy.Normalize)]
        [InlineData(BareLineEndingPolicy.Reject)]
        public async Task No_combination_of_CR_LF_NUL_and_dot_ends_the_text_or_starts_a_hidden_transaction(BareLineEndingPolicy policy)
        {
            using var proxy = TestProxy.Start(configure: o => o.BareLineEnding = policy);
            int expectedSpooled = 0, combinations = 0;
            foreach (var before in Pieces())
                foreach (var after in Pieces())
                {
                    var text = Text(before, after);
                    if (text == null) continue;
                    combinations++;
                    var what = "before '" + Show(before) + "', after '" + Show(after) + "'";
                    var (stored, bare) = Normalise(text);

                    using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
                    // All at once, as a pipelining client may: the proxy alone decides where the text ends.
                    await smtp.WriteAsync(Latin1.GetBytes("MAIL FROM:<sender@example.org>\r\nRCPT TO:<rcpt@example.com>\r\nDATA\r\n" + text + ".\r\nQUIT\r\n"));
                    var replies = new List<string>();
                    string reply;
                    while ((reply = await smtp.ReadReplyAsync()) != null) replies.Add(reply);

                    var codes = replies.Select(r => r.Substring(0, 3)).ToList();
                    bool refused = policy == BareLineEndingPolicy.Reject && bare > 0;
                    var expected = new[] { "250", "250", "354", refused ? "550" : "250", "221" };
                    Assert.True(expected.SequenceEqual(codes), what + ": replies " + string.Join(" | ", replies) + "\n" + proxy.Log);
                    if (refused)
                    {
                        Assert.StartsWith("550 5.5.2 ", replies[3]);
                        continue;
                    }
                    expectedSpooled++;
                    var id = replies[3].Split(' ').Last();
                    using var body = SpoolReader.OpenBody(proxy.SpoolPath, id);
                    using var copy = new MemoryStream();
                    body.CopyTo(copy);
                    var bytes = copy.ToArray();
                    AssertNoLoneLineEnds(bytes, what);
                    var spooled = Latin1.GetString(bytes);
                    Assert.True(spooled.EndsWith(stored, StringComparison.Ordinal), what + ": stored\n" + Show(spooled) + "\nexpected to end with\n" + Show(stored));
                }
            Assert.True(combinations > 400, "only " + combinations + " combinations");
            var all = proxy.Spooled();
            Assert.Equal(expectedSpooled, all.Count);
            Assert.All(all, m => Assert.Equal("<sender@example.org>", m.Envelope.From));
            if (policy == BareLineEndingPolicy.Reject) Assert.True(expectedSpooled < combinations);
        }

        [Theory]
        [InlineData("a\n.\nMAIL FROM:<x@y>\r\n")]
        [InlineData("a\r.\rMAIL FROM:<x@y>\r\n")]
        [InlineData("a\r\n.\nMAIL FROM:<x@y>\r\n")]
        [InlineData("a\n.\r\nMAIL FROM:<x@y>\r\n")]
        [InlineData("a\r\n.\r\rMAIL FROM:<x@y>\r\n")]
        [InlineData("a\r\n.\r\r\n")]
        public async Task The_published_smuggling_sequences_stay_text_and_are_counted(string text)
        {
            using var proxy = TestProxy.Start();
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("MAIL FROM:<sender@example.org>", "250");
            await smtp.SendAsync("RCPT TO:<rcpt@example.com>", "250");
            await smtp.SendAsync("DATA", "354");
            await smtp.WriteAsync(Latin1.GetBytes(text));
            // Still in the text: a NOOP here would be text too, so end it properly and look.
            await smtp.SendAsync(".", "250 2.0.0 OK queued as ");
            await smtp.SendAsync("NOOP", "250");
            var m = Assert.Single(proxy.Spooled());
            AssertNoLoneLineEnds(m.Body, "the spooled message");
            var accepted = proxy.Events.Single(e => e.Kind == "accepted");
            Assert.Equal((long)Normalise(text).Bare, accepted.Data.First(d => d.Key == "bareLineEndings").Value);
        }

        [Fact]
        public async Task Reject_refuses_a_bare_LF_with_550_spools_nothing_and_keeps_the_session()
        {
            using var proxy = TestProxy.Start(configure: o => o.BareLineEnding = BareLineEndingPolicy.Reject);
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("MAIL FROM:<sender@example.org>", "250");
            await smtp.SendAsync("RCPT TO:<rcpt@example.com>", "250");
            await smtp.SendAsync("DATA", "354");
            await smtp.WriteAsync("Subject: a\r\n\r\nline\nline\r\n");
            await smtp.SendAsync(".", "550 5.5.2 ");
            Assert.Empty(proxy.Spooled());
            // The transaction is over; the session is not.
            await smtp.SendAsync("MAIL FROM:<sender@example.org>", "250");
            await smtp.SendAsync("RCPT TO:<rcpt@example.com>", "250");
            await smtp.SendAsync("DATA", "354");
            await smtp.WriteAsync("Subject: b\r\n\r\nclean\r\n");
            await smtp.SendAsync(".", "250");
            Assert.Single(proxy.Spooled());
        }
    }
}
