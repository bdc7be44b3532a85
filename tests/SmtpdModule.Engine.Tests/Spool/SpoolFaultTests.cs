using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using SmtpdModule.Engine.Tests.Smtp;
using Xunit;
using Xunit.Sdk;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// The spool failing under a running proxy, for real: the spool lives on its own small tmpfs,
    /// which is filled up or made immutable, a real proxy listens on 127.0.0.1 port 0, and
    /// python's smtplib is the client. The client must get a temporary reply (452 4.3.1 for a full
    /// disk, 451 4.3.0 for an unwritable spool), nothing of the message may stay in the spool, and
    /// the next message after the fault is gone must be accepted.
    /// </summary>
    public sealed class SpoolFaultTests
    {
        const string Rules = "allow:ALL:ALL:ALL\n";

        [MountFact]
        public async Task A_full_disk_answers_452_leaves_nothing_and_the_next_message_is_accepted_once_space_returns()
        {
            using var disk = ScratchMount.Tmpfs("512k");
            var spool = Path.Combine(disk.Root, "spool");
            using var proxy = TestProxy.Start(Rules, o => o.SpoolPath = spool);
            // Larger than the 64 KiB file buffer, so the body's writes reach the full disk during DATA.
            var message = "Subject: full\r\n\r\n" + string.Concat(Enumerable.Repeat(new string('x', 76) + "\r\n", 4000));

            var filler = disk.Fill();
            var (refused, run) = await Send(proxy, message);
            Assert.True(refused.GetProperty("result").GetString() == "error", "the full spool accepted a message:\n" + run + "\nserver log:\n" + proxy.Log);
            Assert.Equal(452, refused.GetProperty("error").GetProperty("code").GetInt32());
            Assert.StartsWith("4.3.1", refused.GetProperty("error").GetProperty("text").GetString());
            AssertNoMessageFiles(spool, proxy);
            Assert.Contains(proxy.Events, e => e.ToString().Contains("Full"));

            File.Delete(filler);
            var (accepted, run2) = await Send(proxy, message);
            Assert.True(accepted.GetProperty("result").GetString() == "sent", "no recovery after space returned:\n" + run2 + "\nserver log:\n" + proxy.Log);
            var stored = SpoolReader.List(spool);
            Assert.Single(stored);
            Assert.Empty(Directory.GetFiles(Path.Combine(spool, SpoolLayout.Incoming)).Where(f => !TempSpool.IsFreeSlot(f)));
        }

        [MountFact]
        public async Task A_nearly_full_disk_refuses_mail_from_with_452_before_any_data()
        {
            using var disk = ScratchMount.Tmpfs("512k");
            var spool = Path.Combine(disk.Root, "spool");
            using var proxy = TestProxy.Start(Rules, o => { o.SpoolPath = spool; o.MinFreeSpoolBytes = 1024 * 1024; });

            var (refused, run) = await Send(proxy, "Subject: t\r\n\r\nhi\r\n");

            Assert.True(refused.GetProperty("result").GetString() == "error", "accepted:\n" + run);
            Assert.Equal("SMTPSenderRefused", refused.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal(452, refused.GetProperty("error").GetProperty("code").GetInt32());
            AssertNoMessageFiles(spool, proxy);
        }

        [MountFact]
        public async Task An_unwritable_ready_directory_answers_451_leaves_nothing_and_recovers()
        {
            using var disk = ScratchMount.Tmpfs("4m");
            var spool = Path.Combine(disk.Root, "spool");
            using var proxy = TestProxy.Start(Rules, o => o.SpoolPath = spool);
            var ready = Path.Combine(spool, SpoolLayout.Ready);

            // Root ignores file modes, so a chmod would prove nothing: the directory is made immutable
            // (chattr +i), which stops root too.
            using (ScratchMount.Immutable(ready))
            {
                var (refused, run) = await Send(proxy, "Subject: ro\r\n\r\nhello\r\n");
                Assert.True(refused.GetProperty("result").GetString() == "error", "the unwritable spool accepted a message:\n" + run + "\nserver log:\n" + proxy.Log);
                Assert.Equal(451, refused.GetProperty("error").GetProperty("code").GetInt32());
                Assert.StartsWith("4.3.0", refused.GetProperty("error").GetProperty("text").GetString());
                AssertNoMessageFiles(spool, proxy);
            }

            var (accepted, run2) = await Send(proxy, "Subject: ro\r\n\r\nhello\r\n");
            Assert.True(accepted.GetProperty("result").GetString() == "sent", "no recovery:\n" + run2 + "\nserver log:\n" + proxy.Log);
            Assert.Single(SpoolReader.List(spool));
        }

        [MountFact]
        public async Task A_spool_that_cannot_file_the_message_answers_451_after_the_text_leaves_nothing_and_recovers()
        {
            using var disk = ScratchMount.Tmpfs("4m");
            var spool = Path.Combine(disk.Root, "spool");
            using var proxy = TestProxy.Start(Rules, o => o.SpoolPath = spool);

            // The message goes into a slot the proxy holds open; with incoming/ immutable its
            // commit can neither rename it into ready/ nor remove it, so the text is refused after
            // its end and the file is emptied: nothing refused is left for recovery to deliver.
            using (ScratchMount.Immutable(Path.Combine(spool, SpoolLayout.Incoming)))
            {
                var (refused, run) = await Send(proxy, "Subject: no slot\r\n\r\nhello\r\n");
                Assert.True(refused.GetProperty("result").GetString() == "error", "accepted without a file:\n" + run + "\nserver log:\n" + proxy.Log);
                Assert.Equal("SMTPDataError", refused.GetProperty("error").GetProperty("type").GetString());
                Assert.Equal(451, refused.GetProperty("error").GetProperty("code").GetInt32());
                Assert.StartsWith("4.3.0", refused.GetProperty("error").GetProperty("text").GetString());
                AssertNoMessageFiles(spool, proxy);
            }

            var (accepted, run2) = await Send(proxy, "Subject: slot\r\n\r\nhello\r\n");
            Assert.True(accepted.GetProperty("result").GetString() == "sent", "no recovery:\n" + run2 + "\nserver log:\n" + proxy.Log);
            Assert.Single(SpoolReader.List(spool));
        }

        static Task<(JsonElement, ProgramRun)> Send(TestProxy proxy, string message) =>
            ExternalClient.PythonAsync("smtplib_send.py", new
            {
                host = "127.0.0.1",
                port = proxy.EndPoint.Port,
                helo = "client.example.test",
                timeout = 10,
                from = "a@example.org",
                to = new[] { "b@example.test" },
                message,
                mail_options = Array.Empty<string>(),
            });

        static void AssertNoMessageFiles(string spool, TestProxy proxy)
        {
            // The live proxy's control endpoint (control/) is not a message file.
            // Nor is the proxy's state store (proxy-state/).
            var control = Path.Combine(spool, SmtpdModule.Engine.Control.ControlLocation.DirectoryName) + Path.DirectorySeparatorChar;
            var state = Path.Combine(spool, SmtpdModule.Engine.Spool.SpoolLayout.ProxyState) + Path.DirectorySeparatorChar;
            var files = Directory.GetFiles(spool, "*", SearchOption.AllDirectories)
                                 .Where(f => !f.EndsWith(".lock", StringComparison.Ordinal) && !TempSpool.IsFreeSlot(f) && !f.StartsWith(control, StringComparison.Ordinal)
                                             && !f.StartsWith(state, StringComparison.Ordinal)).ToList();
            Assert.True(files.Count == 0, "left in the spool: " + string.Join(", ", files.Select(f => Path.GetRelativePath(spool, f)))
                                          + "\nserver log:\n" + proxy.Log);
        }
    }

    /// <summary>A fact that needs to mount a tmpfs and set file attributes: Linux, as root (CI runs
    /// as root). Skipped elsewhere, saying why.</summary>
    sealed class MountFactAttribute : FactAttribute
    {
        static readonly Lazy<string> s_why = new Lazy<string>(ScratchMount.WhyUnavailable);

        public MountFactAttribute()
        {
            if (s_why.Value != null) Skip = s_why.Value;
        }
    }

    /// <summary>A fact that needs to loop-mount ext4 images: Linux, as root, with mkfs.ext4 and loop
    /// devices (CI has them). Skipped elsewhere, saying why.</summary>
    sealed class Ext4MountFactAttribute : FactAttribute
    {
        static readonly Lazy<string> s_why = new Lazy<string>(ScratchMount.WhyNoExt4);

        public Ext4MountFactAttribute()
        {
            if (s_why.Value != null) Skip = s_why.Value;
        }
    }

    /// <summary>A small tmpfs of our own, unmounted (lazily, so a busy file cannot keep it) on dispose.</summary>
    sealed class ScratchMount : IDisposable
    {
        readonly string _dir;

        ScratchMount(string dir) { _dir = dir; Root = dir; }

        public string Root { get; }

        public static ScratchMount Tmpfs(string size)
        {
            var dir = Directory.CreateTempSubdirectory("smtpd-tmpfs-").FullName;
            Run("mount", "-t", "tmpfs", "-o", "size=" + size + ",mode=0700", "tmpfs", dir);
            return new ScratchMount(dir);
        }

        /// <summary>A fresh ext4 in a sparse image file, loop-mounted; <paramref name="journal"/>
        /// false makes it without one (<c>mkfs.ext4 -O ^has_journal</c>).</summary>
        public static ScratchMount Ext4(bool journal)
        {
            var dir = Directory.CreateTempSubdirectory("smtpd-ext4-").FullName;
            var image = dir + ".img";
            try
            {
                using (var f = new FileStream(image, FileMode.CreateNew)) f.SetLength(32L * 1024 * 1024);
                if (journal) Run("mkfs.ext4", "-q", "-F", image);
                else Run("mkfs.ext4", "-q", "-F", "-O", "^has_journal", image);
                Run("mount", "-o", "loop", image, dir);
            }
            finally
            {
                // Mounted, the file system keeps its loop device; the name can go at once.
                File.Delete(image);
            }
            return new ScratchMount(dir);
        }

        /// <summary>Null when ext4 images can be made and loop-mounted here; otherwise why not.</summary>
        public static string WhyNoExt4()
        {
            var why = WhyUnavailable();
            if (why != null) return why;
            try
            {
                using (Ext4(journal: false)) { }
                return null;
            }
            catch (Exception ex) when (ex is XunitException || ex is System.ComponentModel.Win32Exception)
            {
                return "Cannot make and loop-mount an ext4 image here (no mkfs.ext4 or loop devices?): " + ex.Message;
            }
        }

        /// <summary>Fills the file system to the last block; returns the filler's path.</summary>
        public string Fill()
        {
            var path = Path.Combine(Root, "filler");
            var block = new byte[4096];
            using var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1);
            try
            {
                while (true) f.Write(block, 0, block.Length);
            }
            catch (IOException)
            {
                // ENOSPC: full. Single bytes until not even one fits.
            }
            try { while (true) f.Write(block, 0, 1); }
            catch (IOException) { }
            return path;
        }

        /// <summary>Makes <paramref name="directory"/> immutable until the result is disposed.</summary>
        public static IDisposable Immutable(string directory)
        {
            Run("chattr", "+i", directory);
            return new Undo(() => Run("chattr", "-i", directory));
        }

        public void Dispose()
        {
            try { Run("umount", "-l", _dir); } catch (XunitException) { }
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }

        /// <summary>Null when a tmpfs can be mounted and made immutable here; otherwise why not.</summary>
        public static string WhyUnavailable()
        {
            if (!OperatingSystem.IsLinux()) return "Needs Linux (tmpfs, chattr).";
            if (Environment.UserName != "root") return "Mounting a tmpfs needs root (CI runs the tests as root).";
            try
            {
                using var probe = Tmpfs("64k");
                var d = Directory.CreateDirectory(Path.Combine(probe.Root, "d")).FullName;
                using (Immutable(d)) { }
                return null;
            }
            catch (XunitException ex)
            {
                return "Cannot mount a tmpfs or set chattr +i here (a container without CAP_SYS_ADMIN?): " + ex.Message;
            }
        }

        static void Run(string program, params string[] args)
        {
            var run = ExternalClient.RunAsync(program, args, null, 10000).GetAwaiter().GetResult();
            if (run.ExitCode != 0) throw new XunitException(program + " failed:\n" + run);
        }

        sealed class Undo : IDisposable
        {
            Action _undo;
            public Undo(Action undo) { _undo = undo; }
            public void Dispose() { _undo?.Invoke(); _undo = null; }
        }
    }
}
