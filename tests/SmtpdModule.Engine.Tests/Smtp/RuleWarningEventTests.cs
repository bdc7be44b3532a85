using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using Xunit;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>A rules file that loads with warnings is not silent (issue 12): its warnings are
    /// events at start and after every reload, in file order, as file:line:column.</summary>
    public class RuleWarningEventTests
    {
        [Fact]
        public async Task Warnings_are_events_at_start_and_after_a_reload()
        {
            using var proxy = TestProxy.Start("allow:192.0.2:ALL:ALL\nallow:ALL:ALL:ALL\n");
            var atStart = Assert.Single(proxy.Events, e => e.Kind == "warning");
            Assert.StartsWith(proxy.RulesPath + ":1:", atStart.Message);
            Assert.Contains("warning: partial address '192.0.2'", atStart.Message);
            Assert.Equal(atStart.Message, Assert.Single(proxy.Proxy.RuleWarnings).ToString());

            // Longer than before, so the change shows in the length whatever the time stamp resolution.
            File.WriteAllText(proxy.RulesPath, "allow:ALL:ALL:*@example.test\nallow:198.51.100:ALL:ALL\nallow:ALL:ALL:ALL\n");
            var deadline = Stopwatch.StartNew();
            using var c = await LineClient.ConnectAsync(proxy.EndPoint);
            await c.SendAsync("MAIL FROM:<a@example.org>", "250");
            // The file is checked for changes (at most once a second) when a recipient is decided.
            while (!proxy.Events.Any(e => e.Kind == "warning" && e.Message.StartsWith(proxy.RulesPath + ":2:", StringComparison.Ordinal)))
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), "no warning event after the reload:\n" + proxy.Log);
                await c.SendAsync("RCPT TO:<b@example.test>", "250");
                await Task.Delay(100);
            }
            var afterReload = proxy.Events.SkipWhile(e => e.Kind != "rules").ToList();
            Assert.Equal("rules", afterReload[0].Kind);
            var warning = Assert.Single(afterReload, e => e.Kind == "warning");
            Assert.Contains("partial address '198.51.100'", warning.Message);
            Assert.StartsWith(proxy.RulesPath + ":2:", Assert.Single(proxy.Proxy.RuleWarnings).ToString());
        }
    }
}
