using System;
using System.IO;
using System.Threading.Tasks;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    /// <summary>
    /// The shared cache flush serves a spool only where a refill's one data sync makes every new
    /// slot durable: journaled ext4 and XFS. On ext4 without a journal each message syncs its own
    /// file, or a power failure could take a message that was answered 250.
    /// </summary>
    public class FileSystemJournalTests
    {
        const string MountInfoText =
            "27 1 254:0 / / rw,relatime - ext4 /dev/vda rw,discard\n" +
            "22 27 0:21 / /proc rw,relatime - proc proc rw\n" +
            "45 27 7:0 / /srv/mail rw,relatime - ext4 /dev/loop0 rw\n" +
            "46 45 7:1 / /srv/mail/old rw,relatime - xfs /dev/loop1 rw\n" +
            "47 27 0:40 / /srv/mailbox rw,relatime - tmpfs tmpfs rw\n" +
            "48 45 7:2 / /srv/mail rw,relatime - ext4 /dev/loop2 rw\n" +
            "49 48 7:3 / /srv/mail/spool\\040two rw,relatime shared:4 master:1 - xfs /dev/loop3 rw\n";

        [Theory]
        [InlineData("/var/spool/smtpd", "/", "254:0", "ext4")]
        [InlineData("/srv/mail/spool", "/srv/mail", "7:2", "ext4")]          // stacked: the last mount on a point hides the others
        [InlineData("/srv/mail", "/srv/mail", "7:2", "ext4")]
        [InlineData("/srv/mail/old/q", "/srv/mail", "7:2", "ext4")]          // and the mounts below it
        [InlineData("/srv/mailbox/x", "/srv/mailbox", "0:40", "tmpfs")]     // a prefix of the text is not a parent
        [InlineData("/srv/mail/spool two/q", "/srv/mail/spool two", "7:3", "xfs")]   // \040 is a space
        [InlineData("/proc/self", "/proc", "0:21", "proc")]
        public void The_mount_of_a_path_is_the_longest_mount_point_over_it(string path, string mountPoint, string device, string fileSystem)
        {
            var mount = MountInfo.Find(MountInfoText, path);
            Assert.NotNull(mount);
            Assert.Equal(mountPoint, mount.MountPoint);
            Assert.Equal(device, mount.Device);
            Assert.Equal(fileSystem, mount.FileSystem);
        }

        [Fact]
        public void Lines_that_are_not_mounts_are_passed_over()
        {
            Assert.Null(MountInfo.Find("garbage\n\n1 2 3\n", "/x"));
            Assert.Equal("/", MountInfo.Find("nonsense - \n" + MountInfoText, "/x").MountPoint);
        }

        [Fact]
        public void A_device_name_is_read_from_its_uevent()
        {
            Assert.Equal("dm-0", FileSystemJournal.DeviceName("MAJOR=253\nMINOR=0\nDEVNAME=dm-0\nDEVTYPE=disk\n"));
            Assert.Null(FileSystemJournal.DeviceName("MAJOR=253\nMINOR=0\n"));
        }

        [Fact]
        public void A_journal_is_the_devices_own_jbd2_entry()
        {
            Assert.True(FileSystemJournal.HasJournal("loop0", new[] { "vda-8", "loop0-8" }));
            Assert.False(FileSystemJournal.HasJournal("loop0", new[] { "loop01-8", "loop0-x" }));   // another device; not an inode number
            Assert.False(FileSystemJournal.HasJournal("vda", new string[0]));
        }

        [Fact]
        public void Proc_is_not_journaled_ext4()
        {
            if (!OperatingSystem.IsLinux()) return;
            Assert.False(FileSystemJournal.IsJournaledExt4("/proc"));
        }

        [Ext4MountFact]
        public async Task Only_a_spool_on_journaled_ext4_shares_the_flush_and_both_keep_every_message()
        {
            using var journaled = ScratchMount.Ext4(journal: true);
            using var bare = ScratchMount.Ext4(journal: false);
            Assert.True(FileSystemJournal.IsJournaledExt4(journaled.Root));
            Assert.False(FileSystemJournal.IsJournaledExt4(bare.Root));

            foreach (var (mount, shared) in new[] { (journaled, true), (bare, false) })
            {
                var root = Path.Combine(mount.Root, "spool");
                var writer = SpoolWriter.Open(root);
                Assert.Equal(shared, writer.DeviceFlush != null);
                var message = writer.BeginMessage(TempSpool.NewEnvelope());
                var body = new byte[] { (byte)'h', (byte)'i', 13, 10 };
                message.Body.Write(body, 0, body.Length);
                await writer.CommitAsync(message);
                Assert.True(File.Exists(Path.Combine(root, "ready", message.Id + ".msg")), mount.Root);
            }
        }
    }
}
