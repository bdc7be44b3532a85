using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;
using Xunit.Abstractions;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>Many smtplib sessions open at the same moment, each sending one message.</summary>
    public class ConcurrentClientTests
    {
        const int Sessions = 200;
        readonly ITestOutputHelper _output;

        public ConcurrentClientTests(ITestOutputHelper output) => _output = output;

        /// <summary>Message <paramref name="i"/>: its own headers, a length that varies, and lines
        /// that need dot-stuffing, so that mixing up or cutting two messages would show.</summary>
        static string Message(int i)
        {
            var text = new StringBuilder();
            text.Append("From: <s").Append(i).Append("@example.org>\r\nTo: <r").Append(i).Append("@example.test>\r\n");
            text.Append("Subject: message ").Append(i).Append("\r\nMessage-Id: <").Append(i).Append("@concurrent.example.test>\r\n\r\n");
            for (int line = 0; line <= i % 37; line++)
                text.Append(line % 5 == 0 ? "." : "").Append("message ").Append(i).Append(" line ").Append(line).Append(' ', i % 11).Append("\r\n");
            return text.ToString();
        }

        [Fact]
        public async Task Two_hundred_smtplib_sessions_at_once_are_all_accepted_and_spooled_intact()
        {
            using var proxy = TestProxy.Start(configure: o =>
            {
                o.MaxSessions = 2 * Sessions;
                o.MaxSessionsPerClient = 2 * Sessions;
                o.RateLimits.ConnectionsAtOnce = 2 * Sessions;
            });
            var messages = Enumerable.Range(0, Sessions)
                .Select(i => new { from = "s" + i + "@example.org", to = new[] { "r" + i + "@example.test" }, message = Message(i) })
                .ToArray();

            var (result, run) = await ExternalClient.PythonAsync("concurrent_send.py", new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                helo = "client.example.test",
                timeout = 20,
                messages,
            }, timeoutMs: 60000);
            _output.WriteLine(Sessions + " sessions in " + (int)run.Elapsed.TotalMilliseconds + " ms (python included)");

            Assert.True(result.GetProperty("all_connected").GetBoolean(), "not every session was open at once:\n" + run);
            var results = result.GetProperty("results").EnumerateArray().ToArray();
            Assert.Equal(Sessions, results.Length);
            var idOf = new Dictionary<string, int>();
            for (int i = 0; i < Sessions; i++)
            {
                Assert.True(results[i].GetProperty("ok").GetBoolean(), "session " + i + ": " + results[i] + "\nserver log:\n" + proxy.Log);
                var reply = results[i].GetProperty("data")[1].GetString();
                var id = Regex.Match(reply, @"queued as (\S+)").Groups[1].Value;
                Assert.False(string.IsNullOrEmpty(id), "no id in '" + reply + "'");
                idOf.Add(id, i);   // throws on a duplicate id
            }

            var errors = new List<SpoolException>();
            var spooled = SpoolReader.List(proxy.SpoolPath, SpoolLayout.Ready, errors);
            Assert.Empty(errors);
            Assert.Equal(Sessions, spooled.Count);
            foreach (var envelope in spooled)
            {
                Assert.True(idOf.TryGetValue(envelope.Id, out var i), "spooled " + envelope.Id + " was never acknowledged");
                Assert.Equal("<s" + i + "@example.org>", envelope.From);
                Assert.Equal("<r" + i + "@example.test>", Assert.Single(envelope.Recipients).Address);
                using var stream = SpoolReader.OpenBody(proxy.SpoolPath, envelope.Id);
                using var copy = new System.IO.MemoryStream();
                stream.CopyTo(copy);
                Assert.Equal(Message(i), Encoding.UTF8.GetString(ExternalClientTests.AfterReceived(copy.ToArray())));
            }
            Assert.Equal(Sessions, proxy.Proxy.Counters.Accepted);
        }
    }
}
