using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using SmtpdModule.Engine.Smtp;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// The proxy refuses to start with a rules file or a spool that other users can change, unless
    /// told to with <see cref="SmtpProxyOptions.AllowInsecurePermissions"/>; the spool it creates is private.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]   // the file-mode facts are UnixFacts
    public sealed class LeastPrivilegeTests : IDisposable
    {
        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        readonly string _dir = Directory.CreateTempSubdirectory("smtpd-lp-").FullName;

        string Rules => Path.Combine(_dir, "etc", "smtpd_check_rules");
        string SpoolRoot => Path.Combine(_dir, "spool");

        public LeastPrivilegeTests()
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Rules));
            File.WriteAllText(Rules, "allow:ALL:ALL:ALL\n");
            if (!OperatingSystem.IsWindows())
            {
#pragma warning disable CA1416   // guarded
                File.SetUnixFileMode(Path.GetDirectoryName(Rules), Private);
                File.SetUnixFileMode(Rules, UnixFileMode.UserRead | UnixFileMode.UserWrite);
#pragma warning restore CA1416
            }
        }

        public void Dispose() => Directory.Delete(_dir, true);

        SmtpProxy Start(bool allowInsecure = false) => SmtpProxy.Start(new SmtpProxyOptions
        {
            Listen = new List<IPEndPoint> { new IPEndPoint(IPAddress.Loopback, 0) },
            RulesPath = Rules,
            SpoolPath = SpoolRoot,
            HostName = "mx.example.test",
            ReverseLookup = false,
            IdentTimeout = TimeSpan.Zero,
            AllowInsecurePermissions = allowInsecure,
        });

        [UnixFact]
        public void A_private_setup_starts_and_the_spool_it_creates_is_0700()
        {
            using (Start()) { }
            Assert.Equal(Private, File.GetUnixFileMode(SpoolRoot));
            foreach (var name in SpoolLayout.AllDirectories)
                Assert.Equal(Private, File.GetUnixFileMode(Path.Combine(SpoolRoot, name)));
        }

        [UnixFact]
        public void A_group_writable_rules_file_is_refused_as_RulesFileInsecure()
        {
            File.SetUnixFileMode(Rules, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
            var ex = Assert.Throws<ProxyStartException>(() => Start());
            Assert.Equal(ProxyStartFailure.RulesFileInsecure, ex.Failure);
            Assert.Equal(Rules, ex.Target);
            Assert.Contains("0660", ex.Message);
            Assert.False(Directory.Exists(SpoolRoot), "the spool was created before the refusal");
        }

        [UnixFact]
        public void A_world_writable_rules_directory_is_refused_even_with_the_sticky_bit()
        {
            File.SetUnixFileMode(Path.GetDirectoryName(Rules), (UnixFileMode)Convert.ToInt32("1777", 8));
            var ex = Assert.Throws<ProxyStartException>(() => Start());
            Assert.Equal(ProxyStartFailure.RulesFileInsecure, ex.Failure);
            Assert.Equal(Path.GetDirectoryName(Rules), ex.Target);
        }

        [UnixFact]
        public void A_world_writable_spool_root_is_refused_as_SpoolInsecure()
        {
            Directory.CreateDirectory(SpoolRoot);
            File.SetUnixFileMode(SpoolRoot, (UnixFileMode)Convert.ToInt32("777", 8));
            var ex = Assert.Throws<ProxyStartException>(() => Start());
            Assert.Equal(ProxyStartFailure.SpoolInsecure, ex.Failure);
            Assert.Equal(SpoolRoot, ex.Target);
        }

        [UnixFact]
        public void A_group_writable_ready_directory_is_refused_as_SpoolInsecure()
        {
            using (Start()) { }
            var ready = Path.Combine(SpoolRoot, SpoolLayout.Ready);
            File.SetUnixFileMode(ready, Private | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute);
            var ex = Assert.Throws<ProxyStartException>(() => Start());
            Assert.Equal(ProxyStartFailure.SpoolInsecure, ex.Failure);
            Assert.Equal(ready, ex.Target);
        }

        [UnixFact]
        public void AllowInsecurePermissions_starts_anyway()
        {
            File.SetUnixFileMode(Rules, (UnixFileMode)Convert.ToInt32("666", 8));
            Directory.CreateDirectory(SpoolRoot);
            File.SetUnixFileMode(SpoolRoot, (UnixFileMode)Convert.ToInt32("777", 8));
            using var proxy = Start(allowInsecure: true);
            Assert.True(proxy.IsRunning);
        }

        [Theory]
        [InlineData("600", null)]
        [InlineData("644", null)]
        [InlineData("700", null)]
        [InlineData("755", null)]
        [InlineData("1755", null)]
        [InlineData("620", "mode 0620 lets its group write it")]
        [InlineData("602", "mode 0602 lets other users write it")]
        [InlineData("1777", "mode 1777 lets its group and other users write it")]
        public void Unix_modes_with_a_group_or_other_write_bit_are_insecure(string octal, string expected)
        {
            Assert.Equal(expected, FilePermissions.WhyInsecureMode(Convert.ToInt32(octal, 8)));
        }

        [Theory]
        // What icacls makes of a private spool: SYSTEM, Administrators and the service account.
        [InlineData("O:BAG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;S-1-5-80-1234-5678)", null)]
        // Users may read and list: fine.
        [InlineData("D:AI(A;OICI;FA;;;SY)(A;OICIID;0x1200a9;;;BU)(A;;FR;;;WD)", null)]
        // Write for CREATOR OWNER only, inherit-only: not about this object.
        [InlineData("D:(A;OICIIO;GA;;;CO)(A;OICIIO;GW;;;BU)", null)]
        [InlineData("D:(A;OICI;FA;;;WD)", "Everyone")]
        [InlineData("D:AI(A;OICIID;0x1301bf;;;AU)", "Authenticated Users")]          // Modify
        [InlineData("D:AI(A;CIID;LC;;;BU)", "Users")]                                 // create subfolders (C:\ default)
        [InlineData("D:(A;;0x1200a9;;;BU)(A;;FW;;;S-1-5-32-545)", "Users")]
        [InlineData("D:NO_ACCESS_CONTROL", "no access control list")]
        [InlineData("D:(D;;FA;;;WD)(A;;FA;;;SY)", null)]                              // deny entries grant nothing
        public void Windows_acls_granting_write_to_broad_groups_are_insecure(string sddl, string expected)
        {
            var why = FilePermissions.WhyInsecureSddl(sddl);
            if (expected == null) Assert.Null(why);
            else Assert.Contains(expected, why);
        }
    }
}
