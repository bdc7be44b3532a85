using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Rules
{
    /// <summary>
    /// The rules file going away under a running proxy: the last good rules stay in force, the
    /// failure is written to the proxy's JSON log as an "error" event, and a good file brought
    /// back takes effect again.
    /// </summary>
    public sealed class RulesFaultTests
    {
        const string Rules = "noto:ALL:ALL:*@spam.test\nallow:ALL:ALL:ALL\n";

        [Fact]
        public async Task A_rules_file_deleted_at_run_time_keeps_the_last_good_rules_and_logs_an_error()
        {
            using var proxy = TestProxy.Start(Rules);
            File.Delete(proxy.RulesPath);

            await ProbeUntilLogged(proxy);

            await AssertOldRulesInForce(proxy);
            await RestoreAndSeeItTakeEffect(proxy);
        }

        [Fact]
        public async Task A_rules_file_that_cannot_be_read_at_run_time_keeps_the_last_good_rules_and_logs_an_error()
        {
            using var proxy = TestProxy.Start(Rules);
            // Root reads any file whatever its mode, so a chmod 000 proves nothing when the tests run
            // as root: a directory in the file's place is a path that exists and cannot be read as rules.
            File.Delete(proxy.RulesPath);
            Directory.CreateDirectory(proxy.RulesPath);

            await ProbeUntilLogged(proxy);

            await AssertOldRulesInForce(proxy);
            Directory.Delete(proxy.RulesPath);
            await RestoreAndSeeItTakeEffect(proxy);
        }

        [NotRootUnixFact]
        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        public async Task A_rules_file_made_mode_000_keeps_the_last_good_rules_when_the_proxy_is_not_root()
        {
            using var proxy = TestProxy.Start(Rules);
            File.SetUnixFileMode(proxy.RulesPath, UnixFileMode.None);
            File.SetLastWriteTimeUtc(proxy.RulesPath, DateTime.UtcNow.AddMinutes(1));   // a change the poll notices

            await ProbeUntilLogged(proxy);

            await AssertOldRulesInForce(proxy);
        }

        /// <summary>Sessions make the proxy look at its rules (at most once a second); probe until the
        /// JSON log shows the failed reload.</summary>
        static Task ProbeUntilLogged(TestProxy proxy) =>
            TestWait.UntilAsync(async () =>
            {
                using (var smtp = await LineClient.ConnectAsync(proxy.EndPoint))
                {
                    await smtp.SendAsync("MAIL FROM:<a@example.org>", "250");
                    await smtp.SendAsync("RCPT TO:<x@spam.test>", "550");
                }
                return LoggedErrors(proxy).Any(m => m.Contains("last good rules stay in force"));
            }, proxy.Log, timeoutMs: 15000);

        static string[] LoggedErrors(TestProxy proxy)
        {
            var log = Path.Combine(proxy.Dir, "log", "smtpd.jsonl");
            using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            // Only whole lines: the proxy may be writing the last one while we read.
            var text = reader.ReadToEnd();
            var complete = text.Substring(0, text.LastIndexOf('\n') + 1);
            return complete.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(line => JsonDocument.Parse(line).RootElement)
                .Where(e => e.GetProperty("event").GetString() == "error")
                .Select(e => e.GetProperty("message").GetString())
                .ToArray();
        }

        static async Task AssertOldRulesInForce(TestProxy proxy)
        {
            using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
            await smtp.SendAsync("MAIL FROM:<a@example.org>", "250");
            await smtp.SendAsync("RCPT TO:<x@spam.test>", "550");
            await smtp.SendAsync("RCPT TO:<y@example.com>", "250");
            Assert.Single(LoggedErrors(proxy), m => m.Contains("last good rules stay in force"));   // once per broken state
        }

        static Task RestoreAndSeeItTakeEffect(TestProxy proxy)
        {
            File.WriteAllText(proxy.RulesPath, "allow:ALL:ALL:ALL\n");
            return TestWait.UntilAsync(async () =>
            {
                using var smtp = await LineClient.ConnectAsync(proxy.EndPoint);
                await smtp.SendAsync("MAIL FROM:<a@example.org>", "250");
                await smtp.WriteAsync("RCPT TO:<x@spam.test>\r\n");
                return (await smtp.ReadReplyAsync()).StartsWith("250");
            }, proxy.Log, timeoutMs: 15000);
        }
    }

    /// <summary>A Unix fact that needs file modes to bind the test process: skipped, saying why, as root.</summary>
    sealed class NotRootUnixFactAttribute : FactAttribute
    {
        public NotRootUnixFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Unix file modes do not exist on Windows.";
            else if (Environment.UserName == "root") Skip = "Root reads a mode-000 file; the directory-in-its-place test covers this case as root.";
        }
    }
}
