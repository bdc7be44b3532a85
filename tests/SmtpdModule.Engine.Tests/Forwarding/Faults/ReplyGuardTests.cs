using System;
using System.IO;
using System.Threading;
using SmtpdModule.Engine.Forwarding.Transports;
using Xunit;

namespace SmtpdModule.Engine.Tests.Forwarding.Faults
{
    /// <summary>ReplyGuard alone: what MailKit reports through its protocol logger, in whole
    /// buffers, single bytes and many small chunks.</summary>
    public class ReplyGuardTests
    {
        static readonly byte[] Chunk = new byte[4096];

        [Fact]
        public void A_reply_up_to_the_limit_passes_in_any_chunking()
        {
            var whole = new ReplyGuard(TimeSpan.FromMinutes(1));
            whole.LogConnect(new Uri("smtp://h:25"));
            whole.LogServer(new byte[ReplyGuard.MaxReplyBytes], 0, ReplyGuard.MaxReplyBytes);

            var bytes = new ReplyGuard(TimeSpan.FromMinutes(1));
            for (var i = 0; i < ReplyGuard.MaxReplyBytes; i++) bytes.LogServer(Chunk, i % Chunk.Length, 1);
        }

        [Fact]
        public void One_byte_beyond_the_limit_is_a_broken_connection()
        {
            var guard = new ReplyGuard(TimeSpan.FromMinutes(1));
            for (var i = 0; i < ReplyGuard.MaxReplyBytes / Chunk.Length; i++) guard.LogServer(Chunk, 0, Chunk.Length);
            var ex = Assert.Throws<IOException>(() => guard.LogServer(Chunk, 0, 1));
            Assert.Contains("65536 bytes", ex.Message);
        }

        [Fact]
        public void Each_write_of_ours_starts_a_new_reply()
        {
            var guard = new ReplyGuard(TimeSpan.FromMinutes(1));
            for (var round = 0; round < 10; round++)
            {
                for (var i = 0; i < ReplyGuard.MaxReplyBytes / Chunk.Length; i++) guard.LogServer(Chunk, 0, Chunk.Length);
                guard.LogClient(Chunk, 0, 6);   // "NOOP\r\n"
            }
        }

        [Fact]
        public void A_reply_still_arriving_after_the_timeout_is_a_broken_connection()
        {
            var guard = new ReplyGuard(TimeSpan.FromMilliseconds(50));
            guard.LogClient(Chunk, 0, 3);
            guard.LogServer(Chunk, 0, 1);
            Thread.Sleep(120);   // the point is a wall-clock deadline: no event to await
            Assert.Throws<IOException>(() => guard.LogServer(Chunk, 0, 1));
            guard.LogClient(Chunk, 0, 3);
            guard.LogServer(Chunk, 0, 1);   // a new command, a new deadline
        }
    }
}
