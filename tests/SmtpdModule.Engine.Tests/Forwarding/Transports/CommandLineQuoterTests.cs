using System.Diagnostics;
using System.Text;
using System.Text.Json;
using SmtpdModule.Engine.Forwarding.Transports;
using SmtpdModule.Engine.Tests.Fixtures;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Transports
{
    public class CommandLineQuoterTests
    {
        static readonly string[] Tricky =
        {
            "plain", "", " ", "two words", "tab\there", "new\nline", "a\"b", "\"", "\"\"", "\\", "\\\\",
            "trailing\\", "trailing\\\\", "a\\\"b", "a\\\\\"b", "\\\"", "x\\\\\\\"y\\", "\\\\server\\share\\",
            "C:\\Program Files\\x\\", "'single'", "-oi", "--", "-f", "<>", "a@b", "-x@example.com",
            "ünïcødé ✓", "$HOME", "`id`", "a;b|c&d", "*", "%PATH%", "end with space ", "\"quoted\\\" tail\\",
        };

        [Theory]
        [InlineData("plain", "plain")]
        [InlineData("", "\"\"")]
        [InlineData("two words", "\"two words\"")]
        [InlineData("a\"b", "\"a\\\"b\"")]
        [InlineData("a\\b", "a\\b")]
        [InlineData("a b\\", "\"a b\\\\\"")]
        [InlineData("a\\\"b", "\"a\\\\\\\"b\"")]
        public void Quotes_only_what_needs_it(string argument, string expected) =>
            Assert.Equal(expected, CommandLineQuoter.Quote(argument));

        [Fact]
        public void Tricky_arguments_reach_a_real_child_process_unchanged()
        {
            var psi = new ProcessStartInfo(ExternalClient.Find("python3", "SMTPD_TEST_PYTHON"))
            {
                // The string form on purpose: the only one netstandard2.0 has.
                Arguments = CommandLineQuoter.Join(new[] { RepoPaths.Fixture("downstream", "print_argv.py") }) + " " + CommandLineQuoter.Join(Tricky),
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                StandardOutputEncoding = new UTF8Encoding(false),
            };
            psi.Environment["PYTHONUTF8"] = "1";
            using var process = Process.Start(psi);
            var output = process.StandardOutput.ReadToEnd();
            var error = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(20000), "print_argv.py did not finish");
            Assert.True(process.ExitCode == 0, error);

            Assert.Equal(Tricky, JsonSerializer.Deserialize<string[]>(output));
        }
    }
}
