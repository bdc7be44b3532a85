using System;
using System.IO;
using SmtpdModule.Engine.Spool;
using Xunit;

namespace SmtpdModule.Engine.Tests.Spool
{
    public class SpoolErrorsTests
    {
        [Theory]
        [InlineData(28, HostOs.Linux)]                              // ENOSPC
        [InlineData(122, HostOs.Linux)]                             // EDQUOT
        [InlineData(28, HostOs.OtherUnix)]
        [InlineData(69, HostOs.OtherUnix)]                          // EDQUOT on macOS and the BSDs
        [InlineData(unchecked((int)0x80070070), HostOs.Windows)]    // ERROR_DISK_FULL as the runtime reports it
        [InlineData(unchecked((int)0x80070027), HostOs.Windows)]    // ERROR_HANDLE_DISK_FULL
        [InlineData(unchecked((int)0x8007050F), HostOs.Windows)]    // ERROR_DISK_QUOTA_EXCEEDED
        [InlineData(0x70, HostOs.Windows)]
        [InlineData(0x27, HostOs.Windows)]
        [InlineData(unchecked((int)0x80070070), HostOs.Linux)]      // an HRESULT means the same anywhere
        public void Disk_full_errors_map_to_full(int hresult, object os)
        {
            Assert.Equal(SpoolErrorReason.Full, SpoolErrors.ReasonFor(new IOException("x", hresult), (HostOs)os));
        }

        [Theory]
        [InlineData(112, HostOs.Linux)]                             // EHOSTDOWN, though 0x70 is ERROR_DISK_FULL
        [InlineData(39, HostOs.Linux)]                              // ENOTEMPTY, though 0x27 is ERROR_HANDLE_DISK_FULL
        [InlineData(69, HostOs.Linux)]                              // ENOSR on Linux, EDQUOT only on BSD
        [InlineData(5, HostOs.Linux)]                               // EIO
        [InlineData(28, HostOs.Windows)]                            // ERROR_OUT_OF_PAPER
        [InlineData(unchecked((int)0x80070005), HostOs.Windows)]    // access denied
        [InlineData(unchecked((int)0x80070020), HostOs.Windows)]    // sharing violation
        public void Other_io_errors_map_to_io(int hresult, object os)
        {
            Assert.Equal(SpoolErrorReason.Io, SpoolErrors.ReasonFor(new IOException("x", hresult), (HostOs)os));
        }

        [Fact]
        public void Non_io_failures_map_to_io_and_spool_exceptions_keep_their_reason()
        {
            Assert.Equal(SpoolErrorReason.Io, SpoolErrors.ReasonFor(new UnauthorizedAccessException(), HostOs.Linux));
            Assert.Equal(SpoolErrorReason.Io, SpoolErrors.ReasonFor(new FileNotFoundException(), HostOs.Windows));
            Assert.Equal(SpoolErrorReason.Corrupt,
                SpoolErrors.ReasonFor(new SpoolException("x", SpoolErrorReason.Corrupt), HostOs.Linux));
        }

        [Fact]
        public void A_full_disk_met_while_writing_the_body_is_recognised_on_this_platform()
        {
            var full = OperatingSystem.IsWindows() ? new IOException("full", unchecked((int)0x80070070)) : new IOException("full", 28);
            Assert.Equal(SpoolErrorReason.Full, SpoolWriter.ReasonFor(full));
            Assert.Equal(SpoolErrorReason.Io, SpoolWriter.ReasonFor(new IOException("other", 5)));
        }

        [Fact]
        public void A_wrapped_failure_carries_id_reason_and_cause()
        {
            var cause = new IOException("no space", 28);
            var ex = SpoolErrors.Wrap("20250102T030405-abcdefghijklmnopqrstuvwx", cause);
            Assert.Equal("20250102T030405-abcdefghijklmnopqrstuvwx", ex.Id);
            Assert.Same(cause, ex.InnerException);
            Assert.Equal(OperatingSystem.IsWindows() ? SpoolErrorReason.Io : SpoolErrorReason.Full, ex.Reason);
        }
    }
}
