using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using SmtpdModule.Engine.Verification;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Fixtures
{
    /// <summary>
    /// A real directory, OpenLDAP's slapd, serving tests/fixtures/ldap (its entries are listed in
    /// that folder's README.md) on 127.0.0.1: plain LDAP and StartTLS on <see cref="Port"/>, LDAPS
    /// on <see cref="LdapsPort"/>. Started by tests/tools/test-ldap.sh, the script the Pester tests
    /// use too; ready when ldapsearch (a client we did not write) gets the suffix entry.
    /// <see cref="Stop"/> kills slapd mid-test; Dispose kills it and removes its folder.
    /// </summary>
    /// <remarks>slapd missing is a failure, not a skip (SMTPD_TEST_SLAPD names another one).</remarks>
    public sealed class TestLdapServer : IAsyncLifetime, IDisposable
    {
        public const string SearchBase = "dc=example,dc=test";
        public const string BindDn = "cn=smtpd,ou=services,dc=example,dc=test";
        public const string BindPassword = "reader-secret";
        readonly ServerProcess _server = new ServerProcess();
        readonly string _tlsDirectory;

        /// <param name="tlsDirectory">The CA and server certificate; null: the one this test process trusts
        /// (<see cref="LdapTestTrust"/>). Another folder gives a directory whose certificate nobody trusts.</param>
        public TestLdapServer() : this(null) { }

        TestLdapServer(string tlsDirectory)
        {
            _tlsDirectory = tlsDirectory ?? LdapTestTrust.Directory;
        }

        public int Port { get; private set; }
        public int LdapsPort { get; private set; }

        /// <summary>What slapd has logged (-d stats: each connection and operation).</summary>
        public string Log => _server.Log;

        /// <summary>Starts a directory outside xunit's fixture machinery; dispose it to stop slapd.</summary>
        public static Task<TestLdapServer> StartAsync(string tlsDirectory = null) =>
            ServerProcess.StartOwnAsync(new TestLdapServer(tlsDirectory));

        /// <summary>Source options for this directory: plain LDAP, bound as the service account, 2 s timeout.</summary>
        public LdapSourceOptions Options(LdapSecurity security = LdapSecurity.None) => new LdapSourceOptions
        {
            Server = "127.0.0.1",
            Port = security == LdapSecurity.Ldaps ? LdapsPort : Port,
            Security = security,
            SearchBase = SearchBase,
            Credential = new NetworkCredential(BindDn, BindPassword),
            Timeout = TimeSpan.FromSeconds(2),
        };

        /// <summary>The subtree searches slapd has received whose filter contains <paramref name="text"/>
        /// (as slapd logs it: escapes in capitals, e.g. \2A).</summary>
        public int SearchesFor(string text) =>
            Log.Split('\n').Count(l => l.Contains(" SRCH base=") && l.Contains(" scope=2 ") && l.Contains(text, StringComparison.Ordinal));

        /// <summary>The filters of the searches slapd has received, in order.</summary>
        public string[] Filters() =>
            Regex.Matches(Log, "SRCH base=\"[^\"]*\" scope=2 deref=\\d+ filter=\"(.*)\"").Select(m => m.Groups[1].Value).ToArray();

        public Task InitializeAsync() =>
            _server.StartWithRetriesAsync(
                () =>
                {
                    _server.NewDirectory("smtpd-test-ldap-");   // test-ldap.sh makes it
                    Port = DownstreamTools.FreePort();
                    do LdapsPort = DownstreamTools.FreePort(); while (LdapsPort == Port);
                    return StartProcessAsync();
                },
                log => new XunitException($"slapd did not answer on 127.0.0.1:{Port} within {ServerProcess.StartDeadline.TotalSeconds} s.\n"
                    + $"Command: {Script} {_server.Directory} {Port} {LdapsPort} {_tlsDirectory}\nOutput:\n{log}"));

        static string Script => Path.Combine(RepoPaths.Root, "tests", "tools", "test-ldap.sh");

        // test-ldap.sh ends by exec'ing slapd; ready when ldapsearch gets the suffix entry.
        Task<bool> StartProcessAsync()
        {
            _server.Start("bash", new[] { Script, _server.Directory, Port.ToString(), LdapsPort.ToString(), _tlsDirectory });
            return _server.WaitUntilServingAsync(async () => await LdapSearchAsync("-s", "base", "dn") == 0);
        }

        /// <summary>Runs ldapsearch against the plain port, anonymously; returns its exit code.</summary>
        public async Task<int> LdapSearchAsync(params string[] args)
        {
            var psi = new ProcessStartInfo("ldapsearch") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-x", "-LLL", "-o", "nettimeout=2", "-l", "2", "-H", "ldap://127.0.0.1:" + Port, "-b", SearchBase }.Concat(args))
                psi.ArgumentList.Add(a);
            Process p;
            try { p = Process.Start(psi); }
            catch (System.ComponentModel.Win32Exception ex)
            {
                throw new XunitException("ldapsearch was not found (" + ex.Message + "): run tests/tools/install-test-deps.sh (on Debian: apt-get install ldap-utils).");
            }
            using (p)
            {
                var output = p.StandardOutput.ReadToEndAsync();
                var errors = p.StandardError.ReadToEndAsync();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try { await p.WaitForExitAsync(cts.Token); }
                catch (OperationCanceledException) { p.Kill(); return -1; }
                await Task.WhenAll(output, errors);
                return p.ExitCode;
            }
        }

        /// <summary>Kills slapd and starts it again on the same ports and database: connections kept across this are dead.</summary>
        public async Task RestartAsync()
        {
            Stop();
            if (!await StartProcessAsync())
                throw new XunitException($"slapd did not answer again on 127.0.0.1:{Port} within {ServerProcess.StartDeadline.TotalSeconds} s.\n{Log}");
        }

        /// <summary>Kills slapd now (the directory goes away mid-test); the folder stays until Dispose.</summary>
        public void Stop() => _server.Kill();

        public Task DisposeAsync()
        {
            Dispose();
            return Task.CompletedTask;
        }

        public void Dispose() => _server.Dispose();
    }

    /// <summary>
    /// The CA this test process trusts for LDAP over TLS. libldap (under .NET's LDAP on Linux and
    /// macOS) takes its TLS settings from ldap.conf and from LDAPTLS_* variables of the C
    /// environment, read once, at its first use in the process; .NET's
    /// Environment.SetEnvironmentVariable does not reach the C environment on Unix, so the
    /// variable is set with libc's setenv when the test assembly loads, before any LDAP call.
    /// The folder is filled by the first <see cref="TestLdapServer"/> (test-ldap.sh makes the CA).
    /// </summary>
    public static class LdapTestTrust
    {
        public static string Directory { get; } = Path.Combine(Path.GetTempPath(), "smtpd-test-ldap-tls-" + Environment.ProcessId);

        public static string CaPath => Path.Combine(Directory, "ca.pem");

        [DllImport("libc", SetLastError = true)]
        static extern int setenv(string name, string value, int overwrite);

        [ModuleInitializer]
        internal static void Trust()
        {
            if (OperatingSystem.IsWindows()) return;   // wldap32 trusts the Windows certificate store
            setenv("LDAPTLS_CACERT", CaPath, 1);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
            };
        }
    }

    /// <summary>A test that needs slapd and ldapsearch (Unix programs); skipped, visibly, on Windows.</summary>
    public sealed class LdapFactAttribute : FactAttribute
    {
        public LdapFactAttribute()
        {
            if (OperatingSystem.IsWindows()) Skip = "Needs OpenLDAP's slapd and ldapsearch, which the tests run on Unix.";
        }
    }
}
