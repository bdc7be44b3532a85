using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// Finds the downstream programs the forwarder's transport tests deliver to: Postfix's
    /// smtp-sink and sendmail, and a python3 that has aiosmtpd. A missing program fails the test
    /// with the way to install it (tests/tools/install-test-deps.sh); SMTPD_TEST_SMTP_SINK,
    /// SMTPD_TEST_SENDMAIL and SMTPD_TEST_AIOSMTPD_PYTHON name other executables.
    /// </summary>
    public static class DownstreamTools
    {
        const string InstallHint = "run tests/tools/install-test-deps.sh (on Debian: apt-get install postfix python3-aiosmtpd)";
        static readonly object Lock = new object();
        static string _python;

        public static string SmtpSink => Program("smtp-sink", "SMTPD_TEST_SMTP_SINK", "/usr/sbin/smtp-sink");

        public static string Sendmail => Program("sendmail", "SMTPD_TEST_SENDMAIL", "/usr/sbin/sendmail");

        /// <summary>A python3 that can import aiosmtpd: the one on PATH, else the system's (a
        /// PATH python from pyenv or a venv does not see Debian's python3-aiosmtpd).</summary>
        public static string AiosmtpdPython
        {
            get
            {
                lock (Lock)
                {
                    if (_python != null) return _python;
                    var candidates = new List<string>();
                    var configured = Environment.GetEnvironmentVariable("SMTPD_TEST_AIOSMTPD_PYTHON");
                    if (!string.IsNullOrEmpty(configured)) candidates.Add(configured);
                    foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                        candidates.Add(Path.Combine(folder, "python3"));
                    candidates.Add("/usr/bin/python3");
                    foreach (var candidate in candidates)
                        if (File.Exists(candidate) && CanImportAiosmtpd(candidate))
                            return _python = candidate;
                    throw new XunitException("no python3 with aiosmtpd was found: " + InstallHint + ", or set SMTPD_TEST_AIOSMTPD_PYTHON.");
                }
            }
        }

        static bool CanImportAiosmtpd(string python)
        {
            var psi = new ProcessStartInfo(python) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import aiosmtpd");
            using var p = Process.Start(psi);
            p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            if (!p.WaitForExit(20000)) { p.Kill(); return false; }
            return p.ExitCode == 0;
        }

        static string Program(string name, string variable, string standardPath)
        {
            var configured = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrEmpty(configured))
            {
                if (File.Exists(configured)) return configured;
                throw new XunitException(variable + " is set to '" + configured + "', which does not exist.");
            }
            if (File.Exists(standardPath)) return standardPath;
            throw new XunitException(name + " was not found at " + standardPath + ": " + InstallHint + ", or set " + variable + ".");
        }

        /// <summary>A TCP port on 127.0.0.1 that was free a moment ago (callers retry on a clash).</summary>
        public static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }
    }

    /// <summary>A test that needs the Unix downstream programs (smtp-sink, aiosmtpd, a
    /// sendmail-compatible script); skipped, visibly, on Windows.</summary>
    public sealed class DownstreamFactAttribute : FactAttribute
    {
        public DownstreamFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Needs Postfix's smtp-sink and python3-aiosmtpd, which are Unix programs.";
        }
    }
}
