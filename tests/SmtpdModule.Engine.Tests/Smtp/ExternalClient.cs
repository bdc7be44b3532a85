using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Tests.Fixtures;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Smtp
{
    /// <summary>What an external program did: exit code and everything it printed.</summary>
    public sealed class ProgramRun
    {
        public ProgramRun(string commandLine, int exitCode, string stdout, string stderr, TimeSpan elapsed)
        {
            CommandLine = commandLine;
            ExitCode = exitCode;
            Stdout = stdout;
            Stderr = stderr;
            Elapsed = elapsed;
        }

        public string CommandLine { get; }
        public int ExitCode { get; }
        public string Stdout { get; }
        public string Stderr { get; }
        public TimeSpan Elapsed { get; }

        /// <summary>Everything about the run, for assertion messages.</summary>
        public override string ToString() =>
            CommandLine + "\nexit " + ExitCode + " after " + (int)Elapsed.TotalMilliseconds + " ms\n--- stdout\n" + Stdout + "--- stderr\n" + Stderr;
    }

    /// <summary>
    /// Runs SMTP clients we did not write — python3's smtplib (through the scripts in
    /// tests/fixtures/smtp) and swaks — as child processes with a deadline. A missing program is a
    /// test failure that says how to install it, never a skip: these tests are the only ones that
    /// meet the receiver with other people's SMTP code. SMTPD_TEST_PYTHON and SMTPD_TEST_SWAKS name
    /// other executables.
    /// </summary>
    public static class ExternalClient
    {
        const string InstallHint = "run tests/tools/install-test-deps.sh (on Debian: apt-get install python3 swaks)";

        /// <summary>Runs python3 on tests/fixtures/smtp/<paramref name="script"/> with <paramref name="spec"/>
        /// as JSON (on standard input, so size is no issue) and returns the JSON it prints.</summary>
        public static async Task<(JsonElement Json, ProgramRun Run)> PythonAsync(string script, object spec, int timeoutMs = 20000)
        {
            var path = RepoPaths.Fixture("smtp", script);
            if (!File.Exists(path)) throw new XunitException("fixture script missing: tests/fixtures/smtp/" + script);
            var input = JsonSerializer.Serialize(spec);
            var run = await RunAsync(Find("python3", "SMTPD_TEST_PYTHON"), new[] { path, "-" }, input, timeoutMs);
            if (run.ExitCode != 0) throw new XunitException("the python client failed:\n" + run);
            try
            {
                using var doc = JsonDocument.Parse(run.Stdout);
                return (doc.RootElement.Clone(), run);
            }
            catch (JsonException ex)
            {
                throw new XunitException("the python client did not print JSON (" + ex.Message + "):\n" + run);
            }
        }

        /// <summary>Runs swaks against <paramref name="port"/> on 127.0.0.1 with the given options (which
        /// must include --from) and a fixed HELO name. swaks would look up its own host name at start;
        /// tests/fixtures/smtp/perl-offline, first in PERL5LIB, turns that off, so it makes no name lookups.</summary>
        public static Task<ProgramRun> SwaksAsync(int port, IEnumerable<string> options, int timeoutMs = 20000)
        {
            var args = new List<string> { "--server", "127.0.0.1", "--port", port.ToString(), "--helo", "client.example.test", "--timeout", "10" };
            args.AddRange(options);
            var perl5lib = RepoPaths.Fixture("smtp", "perl-offline");
            var inherited = Environment.GetEnvironmentVariable("PERL5LIB");
            if (!string.IsNullOrEmpty(inherited)) perl5lib += Path.PathSeparator + inherited;
            return RunAsync(Find("swaks", "SMTPD_TEST_SWAKS"), args, null, timeoutMs, new Dictionary<string, string> { ["PERL5LIB"] = perl5lib });
        }

        /// <summary>Finds <paramref name="name"/> on PATH (or where <paramref name="variable"/> says); fails the test if absent.</summary>
        public static string Find(string name, string variable)
        {
            var configured = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(configured))
            {
                if (File.Exists(configured)) return configured;
                throw new XunitException(variable + " is set to '" + configured + "', which does not exist.");
            }
            var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name + ".bat", name } : new[] { name };
            foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                foreach (var n in names)
                {
                    var candidate = Path.Combine(folder, n);
                    if (File.Exists(candidate)) return candidate;
                }
            throw new XunitException(name + " was not found on PATH. These tests drive the proxy with SMTP clients we did not write: "
                                     + InstallHint + ", or set " + variable + " to the executable.");
        }

        /// <summary>Runs a program to completion or kills it (and its children) at the deadline, which fails the test.</summary>
        public static async Task<ProgramRun> RunAsync(string program, IEnumerable<string> args, string stdin, int timeoutMs,
                                                      IDictionary<string, string> environment = null)
        {
            var psi = new ProcessStartInfo(program)
            {
                UseShellExecute = false,
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                CreateNoWindow = true,
                StandardOutputEncoding = new UTF8Encoding(false),
                StandardErrorEncoding = new UTF8Encoding(false),
            };
            foreach (var a in args) psi.ArgumentList.Add(a);
            // Python must print UTF-8 whatever the machine's locale is.
            psi.Environment["PYTHONIOENCODING"] = "utf-8";
            psi.Environment["PYTHONUTF8"] = "1";
            if (environment != null)
                foreach (var pair in environment) psi.Environment[pair.Key] = pair.Value;
            var commandLine = Path.GetFileName(program) + " " + string.Join(" ", args.Select(a => a.Length > 200 ? a.Substring(0, 200) + "…" : a));

            var watch = Stopwatch.StartNew();
            using var process = new Process { StartInfo = psi };
            process.Start();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using (var writer = process.StandardInput)
            {
                if (stdin != null)
                {
                    var bytes = new UTF8Encoding(false).GetBytes(stdin);
                    await writer.BaseStream.WriteAsync(bytes, 0, bytes.Length);
                }
            }
            var exited = process.WaitForExitAsync();
            if (await Task.WhenAny(exited, Task.Delay(timeoutMs)) != exited)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                process.WaitForExit(5000);
                throw new XunitException(commandLine + " did not finish within " + timeoutMs + " ms\n--- stdout\n"
                                         + Finished(stdout) + "--- stderr\n" + Finished(stderr));
            }
            process.WaitForExit();   // drains the redirected streams
            return new ProgramRun(commandLine, process.ExitCode, await stdout, await stderr, watch.Elapsed);
        }

        static string Finished(Task<string> t) => t.IsCompletedSuccessfully ? t.Result : "(not complete)";
    }
}
