using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Control;
using SmtpdModule.Engine.Lookup;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Dnsbl
{
    /// <summary>
    /// Issue 15's must-show, through a running proxy with rules written for the original, knotd
    /// serving the lists (tests/fixtures/dns) and a relay that drops one list's questions: lists that
    /// list everything, answer error codes or time out refuse nobody and are reported unhealthy; a
    /// healthy list decides as the rules and their answer filters say. Clients bind to 127.0.0.3-6,
    /// because 127.0.0.1 is the RFC 5782 address no list may list.
    /// </summary>
    [Collection("dns")]
    public class DnsblProxyTests
    {
        readonly TestDnsServer _dns;
        public DnsblProxyTests(TestDnsServer dns) { _dns = dns; }

        TestProxy Start(string rules, RelayDnsServer relay) => TestProxy.Start(rules, o =>
        {
            o.Dns.Servers = new[] { relay.EndPoint };
            o.Dns.Timeout = TimeSpan.FromMilliseconds(300);
            o.Dns.Retries = 0;
            o.Dnsbl.RetryInterval = TimeSpan.FromMilliseconds(100);
            o.Dnsbl.FailuresUnhealthy = 3;
        });

        static async Task<JsonElement> SendAsync(TestProxy proxy, string source, string to = "u@far.test")
        {
            var (json, _) = await ExternalClient.PythonAsync("smtplib_send.py", new
            {
                host = "127.0.0.1", port = proxy.EndPoint.Port, source, helo = "client.example.test",
                from = "a@example.org", to = new[] { to }, message = "Subject: dnsbl\r\n\r\nhello\r\n",
            });
            return json;
        }

        static Task WaitForVerdicts(TestProxy proxy, int zones) =>
            TestWait.UntilAsync(() => proxy.Proxy.DnsblZones.Count(z => z.Status != DnsblHealthStatus.Unknown) == zones, proxy.Log, 20000);

        [Fact]
        public async Task Lists_that_list_everything_answer_errors_or_time_out_refuse_nobody_and_are_reported()
        {
            using var relay = RelayDnsServer.Start(_dns.EndPoint, "slow.test");
            // Rules as the original read them: no answer filters, the default action (allow) at the end.
            using var proxy = Start("deny:RBL.all.test:ALL:ALL\nnoto:RBL.err.test:ALL:ALL\ndeny:RBL.slow.test:ALL:ALL\n", relay);
            await WaitForVerdicts(proxy, 3);

            var health = proxy.Proxy.DnsblZones.ToDictionary(z => z.Zone, z => z.Status);
            Assert.Equal(DnsblHealthStatus.ListsEverything, health["all.test"]);
            Assert.Equal(DnsblHealthStatus.ErrorAnswers, health["err.test"]);
            Assert.Equal(DnsblHealthStatus.Timeout, health["slow.test"]);

            var sent = await SendAsync(proxy, "127.0.0.3");
            Assert.True(sent.GetProperty("result").GetString() == "sent", sent.ToString() + "\n" + proxy.Log);
            var swaks = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--local-interface", "127.0.0.4", "--from", "b@example.org", "--to", "v@far.test", "--data", "Subject: dnsbl\\n\\nhello",
            });
            Assert.True(swaks.ExitCode == 0, swaks + "\n" + proxy.Log);
            Assert.Equal(2, proxy.Spooled().Count);
            // An unhealthy zone is not asked for clients at all.
            Assert.Equal(0, relay.Asked("3.0.0.127.all.test") + relay.Asked("3.0.0.127.err.test") + relay.Asked("3.0.0.127.slow.test"));

            // Reported: a 'dnsbl' event per zone in the log, and the status over the control channel.
            var log = File.ReadAllText(proxy.Proxy.Options.LogPath);
            foreach (var zone in new[] { "all.test", "err.test", "slow.test" })
                Assert.Contains(proxy.Events, e => e.Kind == "dnsbl" && e.Data.Any(d => d.Key == "zone" && (string)d.Value == zone)
                                                   && e.Data.Any(d => d.Key == "healthy" && (bool)d.Value == false));
            Assert.Contains("\"dnsbl\"", log);
            var location = Assert.Single(ControlClient.Find(proxy.SpoolPath, ControlLocation.ProxyKind));
            var status = ProxyStatus.FromFields(await ControlClient.RequestAsync(location, ControlRequest.Status, TimeSpan.FromSeconds(10)), location.File);
            Assert.Equal(new[] { "all.test ListsEverything lists 127.0.0.1", "err.test ErrorAnswers", "slow.test Timeout" },
                status.DnsblZones.Select(z => z.Zone + " " + z.Status + (z.Status == DnsblHealthStatus.ListsEverything ? " " + z.Detail : "")));
            Assert.All(status.DnsblZones, z => Assert.False(z.Healthy));
        }

        [Fact]
        public async Task A_healthy_list_decides_as_the_rules_and_their_answer_filters_say()
        {
            using var relay = RelayDnsServer.Start(_dns.EndPoint);
            using var proxy = Start("deny:RBL.good.test=127.0.0.[10..11]:ALL:ALL\nnoto:RBL.good.test&0.0.0.4:ALL:ALL\nallow:ALL:ALL:ALL\n", relay);
            await WaitForVerdicts(proxy, 1);
            Assert.Equal(DnsblHealthStatus.Healthy, proxy.Proxy.DnsblZones.Single().Status);

            // 127.0.0.3 answers 127.0.0.4: the bitmask matches, noto.
            var noto = await SendAsync(proxy, "127.0.0.3");
            Assert.True(noto.GetProperty("result").GetString() == "error", noto.ToString());
            Assert.Equal(550, noto.GetProperty("error").GetProperty("recipients").GetProperty("u@far.test")[0].GetInt32());

            // 127.0.0.4 answers 127.0.0.10: the range matches, deny (550 then 421).
            var deny = await ExternalClient.SwaksAsync(proxy.EndPoint.Port, new[]
            {
                "--local-interface", "127.0.0.4", "--from", "b@example.org", "--to", "v@far.test", "--data", "Subject: dnsbl\\n\\nhello",
            });
            Assert.Contains("<** 550", deny.Stdout);
            Assert.Contains("421", deny.Stdout);

            // 127.0.0.5 answers 127.0.0.2 (listed, outside both filters) and 127.0.0.6 is not listed: accepted.
            foreach (var source in new[] { "127.0.0.5", "127.0.0.6" })
            {
                var sent = await SendAsync(proxy, source);
                Assert.True(sent.GetProperty("result").GetString() == "sent" && sent.GetProperty("refused").EnumerateObject().Count() == 0, sent + "\n" + proxy.Log);
            }
            Assert.Equal(2, proxy.Spooled().Count);
        }

        [Fact]
        public async Task A_second_session_takes_the_DNSBL_answer_from_the_cache()
        {
            using var relay = RelayDnsServer.Start(_dns.EndPoint);
            using var proxy = Start("noto:RBL.good.test=127.0.0.10:ALL:ALL\n", relay);
            await WaitForVerdicts(proxy, 1);
            for (int i = 0; i < 3; i++)
                Assert.Equal("sent", (await SendAsync(proxy, "127.0.0.5")).GetProperty("result").GetString());
            Assert.Equal(1, relay.Asked("5.0.0.127.good.test"));
        }
    }
}
